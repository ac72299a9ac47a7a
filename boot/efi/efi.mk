# placeholder, replaced by the UEFI loader work
