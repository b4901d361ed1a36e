#ifndef VIRTSYNC_CLIBVIRT_SHIM_H
#define VIRTSYNC_CLIBVIRT_SHIM_H
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#endif
