/* libvirt's public client library for the CLI (cmd-vtpm*.c, cmd-status.c):
 * loaded with GModule only when a command is given --connect, never linked in.
 */
#pragma once

#include <glib.h>
#include <gmodule.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

typedef struct {
    GModule *module;
    int (*ConnectClose)(virConnectPtr);
    int (*ConnectGetLibVersion)(virConnectPtr, unsigned long *);
    int (*ConnectListAllStoragePools)(virConnectPtr, virStoragePoolPtr **,
                                      unsigned int);
    virConnectPtr (*ConnectOpen)(const char *);
    virConnectPtr (*ConnectOpenReadOnly)(const char *);
    int (*DomainFree)(virDomainPtr);
    char *(*DomainGetXMLDesc)(virDomainPtr, unsigned int);
    int (*DomainIsActive)(virDomainPtr);
    virDomainPtr (*DomainLookupByName)(virConnectPtr, const char *);
    virDomainPtr (*DomainLookupByUUIDString)(virConnectPtr, const char *);
    virErrorPtr (*GetLastError)(void);
    void (*SetErrorFunc)(void *, virErrorFunc);
    int (*SecretFree)(virSecretPtr);
    unsigned char *(*SecretGetValue)(virSecretPtr, size_t *, unsigned int);
    virSecretPtr (*SecretLookupByUUIDString)(virConnectPtr, const char *);
    int (*StoragePoolFree)(virStoragePoolPtr);
    const char *(*StoragePoolGetName)(virStoragePoolPtr);
    char *(*StoragePoolGetXMLDesc)(virStoragePoolPtr, unsigned int);
    virStoragePoolPtr (*StoragePoolLookupByName)(virConnectPtr, const char *);
    virStorageVolPtr (*StorageVolCreateXML)(virStoragePoolPtr, const char *,
                                            unsigned int);
    int (*StorageVolDelete)(virStorageVolPtr, unsigned int);
    int (*StorageVolDownload)(virStorageVolPtr, virStreamPtr,
                              unsigned long long, unsigned long long,
                              unsigned int);
    int (*StorageVolFree)(virStorageVolPtr);
    int (*StorageVolGetInfo)(virStorageVolPtr, virStorageVolInfoPtr);
    virStorageVolPtr (*StorageVolLookupByName)(virStoragePoolPtr, const char *);
    int (*StorageVolUpload)(virStorageVolPtr, virStreamPtr, unsigned long long,
                            unsigned long long, unsigned int);
    int (*StorageVolWipe)(virStorageVolPtr, unsigned int);
    int (*StreamAbort)(virStreamPtr);
    int (*StreamFinish)(virStreamPtr);
    int (*StreamFree)(virStreamPtr);
    virStreamPtr (*StreamNew)(virConnectPtr, unsigned int);
    int (*StreamRecv)(virStreamPtr, char *, size_t);
    int (*StreamSend)(virStreamPtr, const char *, size_t);
} SpVirt;

/* The loaded functions; valid after sp_virt_load succeeded. */
extern SpVirt sp_virt;

/* Load libvirt.so.0 and every function above (once); silences libvirt's
 * own error printing and ignores SIGPIPE (a daemon that goes away must
 * fail a call, not kill the CLI). */
gboolean sp_virt_load(GError **error);

/* Set @error from libvirt's last error as "@what: <libvirt's message>":
 * no such domain, pool, volume or secret -> SP_ERROR_NOT_FOUND; a volume
 * that exists -> SP_ERROR_EXISTS; else SP_ERROR_FAILED. Returns FALSE. */
gboolean sp_virt_error(const char *what, GError **error);
