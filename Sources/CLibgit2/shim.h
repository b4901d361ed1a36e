#ifndef VIRTSYNC_CLIBGIT2_SHIM_H
#define VIRTSYNC_CLIBGIT2_SHIM_H
#include <git2.h>
#endif
