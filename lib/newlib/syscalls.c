/*
 * The system-call layer newlib needs, on top of the kernel's console, heap, power and time.
 *
 * Which names: newlib is configured for x86_64-elf (scripts/build-newlib.sh), a target without a
 * syscall directory, so its configure.host adds -DMISSING_SYSCALL_NAMES and libc.a's reentrant
 * wrappers (_write_r, _sbrk_r, ...) call the plain POSIX names write, sbrk, close, ... We define
 * those, plus the underscore names (_write, _sbrk, ...) as aliases so a newlib built without
 * MISSING_SYSCALL_NAMES links too. _exit is spelled _exit either way.
 *
 * errno: the build does not define REENTRANT_SYSCALLS_PROVIDED, so newlib's wrappers clear the
 * global `errno` (libc/reent/reent.c), call us, and copy `errno` into the caller's struct _reent
 * on failure. We therefore set that global, not errno.h's macro (which reads the _reent), as
 * newlib's documentation for non-reentrant glue describes. The kernel is single-threaded
 * (--disable-newlib-multithread), so one global is enough.
 *
 * File descriptors: 0, 1, 2 are the serial console; there is no file system, so no others exist.
 */
#ifndef _DEFAULT_SOURCE /* the kernel build defines it for everyone */
#define _DEFAULT_SOURCE /* sbrk, kill, gettimeofday under -std=c11 */
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/times.h>
#include <time.h>
#include <unistd.h>

#include "kernel/console.h"
#include "kernel/heap.h"
#include "kernel/power.h"
#include "kernel/time.h"

#undef errno
extern int errno;

#define VIREO_PID 1

static int is_console_fd(int fd)
{
	return fd >= 0 && fd <= 2;
}

/* The return type is newlib's _READ_WRITE_RETURN_TYPE, int for this target: write at most
 * INT_MAX bytes per call (stdio loops on short writes). */
_READ_WRITE_RETURN_TYPE write(int fd, const void *buf, size_t nbyte)
{
	if (fd != 1 && fd != 2) {
		errno = EBADF;
		return -1;
	}
	if (nbyte > INT_MAX)
		nbyte = INT_MAX;
	console_write(buf, nbyte);
	return (_READ_WRITE_RETURN_TYPE)nbyte;
}

/*
 * Console input is not available through stdio. The kernel has one thread and no scheduler:
 * a blocking read() would spin the only CPU with interrupts as the sole way out, and a
 * non-blocking one would let stdin's buffer swallow bytes the shell (which polls
 * console_getc_nonblock() from its own loop) is waiting for. So read(0) fails with ENOTSUP
 * rather than returning 0, which stdio would take as a permanent end of file.
 */
_READ_WRITE_RETURN_TYPE read(int fd, void *buf, size_t nbyte)
{
	(void)buf;
	(void)nbyte;
	errno = fd == 0 ? ENOTSUP : EBADF;
	return -1;
}

void *sbrk(ptrdiff_t increment)
{
	void *old = kheap_sbrk(increment);

	if (old == (void *)-1)
		errno = ENOMEM;
	return old;
}

void _exit(int status)
{
	power_off(status);
}

int close(int fd)
{
	if (is_console_fd(fd))
		return 0; /* nothing to release; the console stays usable */
	errno = EBADF;
	return -1;
}

int fstat(int fd, struct stat *st)
{
	if (!is_console_fd(fd)) {
		errno = EBADF;
		return -1;
	}
	*st = (struct stat){ .st_mode = S_IFCHR | 0620 };
	return 0;
}

/* 1 for the console, so stdout is line buffered (newlib's __smakebuf_r asks). */
int isatty(int fd)
{
	if (is_console_fd(fd))
		return 1;
	errno = EBADF;
	return 0;
}

off_t lseek(int fd, off_t offset, int whence)
{
	(void)offset;
	(void)whence;
	errno = is_console_fd(fd) ? ESPIPE : EBADF;
	return (off_t)-1;
}

int open(const char *path, int flags, ...)
{
	(void)path;
	(void)flags;
	errno = ENOENT;
	return -1;
}

pid_t getpid(void)
{
	return VIREO_PID;
}

/*
 * There are no other processes. raise() and abort() end up here with our own pid when no handler
 * is installed; the default action of those signals is to terminate, so end the machine with the
 * shell's 128 + signal convention.
 */
int kill(pid_t pid, int sig)
{
	if (pid != VIREO_PID && pid != 0 && pid != -1) {
		errno = ESRCH;
		return -1;
	}
	if (sig == 0)
		return 0;
	if (sig < 0 || sig >= NSIG) {
		errno = EINVAL;
		return -1;
	}
	power_off(128 + sig);
}

/*
 * No wall clock is read: the time of day is the time since boot (the epoch is the first kernel
 * instruction). Good enough for interval measurements, which is all the kernel uses it for.
 */
int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
	uint64_t ns = time_ns();

	if (tv) {
		tv->tv_sec = (time_t)(ns / 1000000000u);
		tv->tv_usec = (suseconds_t)(ns % 1000000000u / 1000u);
	}
	if (tz)
		*(struct timezone *)tz = (struct timezone){ 0, 0 };
	return 0;
}

/* All time since boot is the one "process"'s user time, in clock() ticks (CLOCKS_PER_SEC). */
clock_t times(struct tms *buf)
{
	clock_t ticks = (clock_t)(time_ns() / (1000000000u / CLOCKS_PER_SEC));

	if (buf)
		*buf = (struct tms){ .tms_utime = ticks };
	return ticks;
}

/* The underscore spellings, for a newlib built without MISSING_SYSCALL_NAMES. */
_READ_WRITE_RETURN_TYPE _write(int fd, const void *buf, size_t nbyte) __attribute__((alias("write")));
_READ_WRITE_RETURN_TYPE _read(int fd, void *buf, size_t nbyte) __attribute__((alias("read")));
void *_sbrk(ptrdiff_t increment) __attribute__((alias("sbrk")));
int _close(int fd) __attribute__((alias("close")));
int _fstat(int fd, struct stat *st) __attribute__((alias("fstat")));
int _isatty(int fd) __attribute__((alias("isatty")));
off_t _lseek(int fd, off_t offset, int whence) __attribute__((alias("lseek")));
int _open(const char *path, int flags, ...) __attribute__((alias("open")));
pid_t _getpid(void) __attribute__((alias("getpid")));
int _kill(pid_t pid, int sig) __attribute__((alias("kill")));
int _gettimeofday(struct timeval *tv, void *tz) __attribute__((alias("gettimeofday")));
clock_t _times(struct tms *buf) __attribute__((alias("times")));
