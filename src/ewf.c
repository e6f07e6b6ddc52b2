/* EWF (E01) through libewf: what the writer and the reader share. */
#include <string.h>

#include <libewf.h>

#include "error_private.h"
#include "ewf_private.h"

/* Turn a libewf error into ours, and free it. */
custos_status custos__ewf_error(custos_error *err, libewf_error_t **e,
		custos_status status, const char *what)
{
	char detail[256] = "";

	if (e != NULL && *e != NULL) {
		libewf_error_sprint(*e, detail, sizeof(detail));
		libewf_error_free(e);
	}
	/* libewf's messages span lines; keep the first. */
	detail[strcspn(detail, "\n")] = '\0';
	return custos__error_set(err, status, "%s%s%s", what,
		detail[0] ? ": " : "", detail);
}
