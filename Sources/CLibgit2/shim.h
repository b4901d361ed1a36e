#ifndef VIRTSYNC_CLIBGIT2_SHIM_H
#define VIRTSYNC_CLIBGIT2_SHIM_H
#include <git2.h>

/* git_libgit2_opts is variadic, which Swift cannot call: one wrapper per option used. */
static inline int virtsync_git_set_ssl_cert_file(const char *file) {
    return git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, file, (const char *)0);
}
#endif
