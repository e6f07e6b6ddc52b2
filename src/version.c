/* Versions of libcustos and its dependencies, for --version and reports. */
#include <archive.h>
#include <jansson.h>
#include <libewf.h>
#include <openssl/crypto.h>

#include "custos/version.h"

const char *custos_version(void)
{
	return CUSTOS_VERSION;
}

const char *custos_version_libewf(void)
{
	return libewf_get_version();
}

const char *custos_version_openssl(void)
{
	return OpenSSL_version(OPENSSL_VERSION_STRING);
}

const char *custos_version_libarchive(void)
{
	return archive_version_string();
}

const char *custos_version_jansson(void)
{
	return jansson_version_str();
}
