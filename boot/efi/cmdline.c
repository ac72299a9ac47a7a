/*
 * The kernel command line, from one of two places:
 *
 *  1. The image's load options. OVMF's `-kernel vireo.efi -append "..."` passes the -append text
 *     there as a NUL-terminated UCS-2 string; the UEFI shell passes its whole command line,
 *     starting with the program's own path; a boot manager entry may pass binary data.
 *  2. Failing that, a file cmdline.txt: first in the application's own directory (an ESP with
 *     \EFI\BOOT\BOOTX64.EFI and \EFI\BOOT\cmdline.txt), then in the root of the same file system.
 *
 * The result is ASCII: tabs, CRs and newlines become spaces, other bytes outside 0x20..0x7e
 * become '?', leading and trailing white space goes.
 */
#include "loader.h"

#define PATH_MAX_CHARS 512

static int is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static char to_ascii(UINT32 c)
{
	if (is_space((int)c))
		return ' ';
	if (c < 0x20 || c > 0x7e)
		return '?';
	return (char)c;
}

/* Trim white space at both ends, in place. */
static void trim(char *s)
{
	UINTN len = 0, start = 0;

	while (s[len])
		len++;
	while (len > 0 && is_space(s[len - 1]))
		s[--len] = '\0';
	while (s[start] && is_space(s[start]))
		start++;
	if (start > 0) {
		for (UINTN i = 0; i + start <= len; i++)
			s[i] = s[i + start];
	}
}

static int ends_with_efi(const char *s, UINTN len)
{
	if (len < 4)
		return 0;
	s += len - 4;
	return s[0] == '.' && (s[1] | 0x20) == 'e' && (s[2] | 0x20) == 'f' && (s[3] | 0x20) == 'i';
}

/*
 * Load options → ASCII. Returns 0 when they are not text (binary optional data of a boot
 * option: anything that is not printable ASCII, or an odd size), so the caller falls back to
 * cmdline.txt.
 */
static int cmdline_from_load_options(const EFI_LOADED_IMAGE *li, char *out)
{
	const CHAR16 *opt = li->LoadOptions;
	UINTN n = li->LoadOptionsSize / sizeof(CHAR16), len = 0;

	out[0] = '\0';
	if (!opt || li->LoadOptionsSize == 0 || li->LoadOptionsSize % sizeof(CHAR16))
		return 0;
	for (UINTN i = 0; i < n && opt[i]; i++) {
		if (opt[i] > 0x7e || (opt[i] < 0x20 && !is_space(opt[i])))
			return 0;
		if (len < BOOT_CMDLINE_MAX - 1)
			out[len++] = to_ascii(opt[i]);
	}
	out[len] = '\0';
	trim(out);

	/* The shell passes "fs0:\EFI\BOOT\BOOTX64.EFI args": drop a first word naming an .efi
	 * file, it is the program, not an argument. */
	len = 0;
	while (out[len] && out[len] != ' ')
		len++;
	if (ends_with_efi(out, len)) {
		UINTN i = 0;

		while (out[len + i]) {
			out[i] = out[len + i];
			i++;
		}
		out[i] = '\0';
		trim(out);
	}
	return 1;
}

/* The directory part of the application's file path ("\EFI\BOOT\" for the ESP case), from the
 * MEDIA_FILEPATH_DP nodes of the loaded image's path (a path may span several nodes). Empty
 * when the image did not come from a file (OVMF's -kernel, a network boot). */
static void app_directory(const EFI_LOADED_IMAGE *li, CHAR16 *dir, UINTN max)
{
	UINTN len = 0, last_sep = 0;
	EFI_DEVICE_PATH *node = li->FilePath;

	dir[0] = 0;
	for (; node && !IsDevicePathEnd(node); node = NextDevicePathNode(node)) {
		if ((UINTN)DevicePathNodeLength(node) < sizeof(EFI_DEVICE_PATH))
			break; /* malformed: stop rather than loop */
		if (DevicePathType(node) != MEDIA_DEVICE_PATH || DevicePathSubType(node) != MEDIA_FILEPATH_DP)
			continue;
		const CHAR16 *name = ((FILEPATH_DEVICE_PATH *)node)->PathName;
		UINTN chars = ((UINTN)DevicePathNodeLength(node) - sizeof(EFI_DEVICE_PATH)) / sizeof(CHAR16);

		/* Join nodes with one separator. */
		if (len > 0 && dir[len - 1] != L'\\' && chars > 0 && name[0] != L'\\' && len + 1 < max)
			dir[len++] = L'\\';
		for (UINTN i = 0; i < chars && name[i] && len + 1 < max; i++)
			dir[len++] = name[i] == L'/' ? L'\\' : name[i];
	}
	dir[len] = 0;
	for (UINTN i = 0; i < len; i++) {
		if (dir[i] == L'\\')
			last_sep = i + 1;
	}
	dir[last_sep] = 0; /* keep the trailing separator, drop the file name */
}

/* Read up to BOOT_CMDLINE_MAX - 1 bytes of path on the volume root into out. */
static int read_text_file(EFI_FILE_HANDLE root, CHAR16 *path, char *out)
{
	EFI_FILE_HANDLE fh;
	UINTN size = BOOT_CMDLINE_MAX - 1;
	EFI_STATUS st;

	st = uefi_call_wrapper(root->Open, 5, root, &fh, path, EFI_FILE_MODE_READ, 0ULL);
	if (EFI_ERROR(st))
		return 0;
	st = uefi_call_wrapper(fh->Read, 3, fh, &size, out);
	uefi_call_wrapper(fh->Close, 1, fh);
	if (EFI_ERROR(st))
		return 0;
	out[size] = '\0';
	for (UINTN i = 0; i < size && out[i]; i++)
		out[i] = to_ascii((UINT8)out[i]);
	trim(out);
	Print(L"cmdline: read %d bytes from %s\n", (int)size, path);
	return 1;
}

void efi_read_cmdline(EFI_HANDLE image, EFI_LOADED_IMAGE *li, char *out)
{
	static CHAR16 path[PATH_MAX_CHARS];
	EFI_FILE_HANDLE root;
	const CHAR16 *file = L"cmdline.txt";
	UINTN len;

	(void)image;
	if (cmdline_from_load_options(li, out) && out[0]) {
		Print(L"cmdline: from load options\n");
		return;
	}
	out[0] = '\0';
	if (li->LoadOptionsSize && !out[0])
		Print(L"cmdline: load options (%d bytes) are not text or empty; trying cmdline.txt\n",
		      (int)li->LoadOptionsSize);

	root = LibOpenRoot(li->DeviceHandle);
	if (!root) {
		Print(L"cmdline: no file system beside the loader; empty command line\n");
		return;
	}
	app_directory(li, path, PATH_MAX_CHARS);
	len = StrLen(path);
	/* len 1 is the root itself, tried next anyway. */
	if (len > 1 && len + StrLen(file) + 1 < PATH_MAX_CHARS) {
		StrCat(path, file);
		if (read_text_file(root, path, out))
			goto done;
	}
	StrCpy(path, L"\\");
	StrCat(path, file);
	if (!read_text_file(root, path, out))
		Print(L"cmdline: no load options and no cmdline.txt; empty command line\n");
done:
	uefi_call_wrapper(root->Close, 1, root);
}
