/* The identity string every safepool libvirt module carries in its file,
 * "safepool-module version=V libvirt=N types=T[,T]" (N as libvirt's
 * LIBVIR_VERSION_NUMBER, T the pool types it serves): what `safepool
 * status` looks for in the modules a daemon has mapped. */
#pragma once

#define SP_MODULE_ID_PREFIX "safepool-module "
