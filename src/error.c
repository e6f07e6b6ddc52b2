/* The error model: static texts, and messages written into custos_error. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "error_private.h"

const char *custos_strerror(custos_status status)
{
	switch (status) {
	case CUSTOS_OK: return "success";
	case CUSTOS_EINVAL: return "invalid argument";
	case CUSTOS_ENOMEM: return "out of memory or over a limit";
	case CUSTOS_EIO: return "input/output error";
	case CUSTOS_ENOTFOUND: return "not found";
	case CUSTOS_EFORMAT: return "malformed input";
	case CUSTOS_EMISMATCH: return "check failed";
	case CUSTOS_EEXIST: return "output already exists";
	case CUSTOS_EACCES: return "permission denied";
	case CUSTOS_EWRITABLE: return "source is not read-only";
	case CUSTOS_ECANCELED: return "canceled";
	case CUSTOS_ENOSPC: return "no space left";
	case CUSTOS_EUNSUPPORTED: return "not supported";
	case CUSTOS_EINTERNAL: return "internal library failure";
	}
	return "unknown error";
}

void custos_error_clear(custos_error *err)
{
	if (err == NULL)
		return;
	err->status = CUSTOS_OK;
	err->message[0] = '\0';
}

static void error_vset(custos_error *err, custos_status status,
		const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));

static void error_vset(custos_error *err, custos_status status,
		const char *fmt, va_list ap)
{
	err->status = status;
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
}

custos_status custos__error_set(custos_error *err, custos_status status,
		const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return status;
	va_start(ap, fmt);
	error_vset(err, status, fmt, ap);
	va_end(ap);
	return status;
}

custos_status custos__status_from_errno(int errnum)
{
	switch (errnum) {
	case ENOENT:
	case ENOTDIR:
	case ENXIO:
	case ENODEV:
		return CUSTOS_ENOTFOUND;
	case EACCES:
	case EPERM:
	case EROFS:
		return CUSTOS_EACCES;
	case ENOMEM:
		return CUSTOS_ENOMEM;
	case EEXIST:
		return CUSTOS_EEXIST;
	case ENOSPC:
	case EFBIG:
	case EDQUOT:
		return CUSTOS_ENOSPC;
	case EINTR:
	case ECANCELED:
		return CUSTOS_ECANCELED;
	case EINVAL:
		return CUSTOS_EINVAL;
	default:
		return CUSTOS_EIO;
	}
}

custos_status custos__error_errno(custos_error *err, int errnum,
		const char *fmt, ...)
{
	custos_status status = custos__status_from_errno(errnum);
	va_list ap;
	size_t used;

	if (err == NULL)
		return status;
	va_start(ap, fmt);
	error_vset(err, status, fmt, ap);
	va_end(ap);
	used = strlen(err->message);
	snprintf(err->message + used, sizeof(err->message) - used, ": %s",
		strerror(errnum));
	return status;
}

custos_status custos__error_openssl(custos_error *err, const char *what)
{
	unsigned long code = ERR_get_error();
	char text[256] = "no detail";

	if (code != 0)
		ERR_error_string_n(code, text, sizeof(text));
	ERR_clear_error();
	return custos__error_set(err, CUSTOS_EINTERNAL, "%s: %s", what, text);
}
