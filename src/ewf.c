/* EWF (E01) through libewf: what the writer and the reader share. */
#include <string.h>

#include <libewf.h>

#include "error_private.h"
#include "ewf_private.h"
#include "util_private.h"

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

char *custos__ewf_segment_path(const char *base, unsigned int n)
{
	char ext[4];

	if (n == 0 || n > CUSTOS__EWF_MAX_SEGMENTS)
		return NULL;
	if (n <= 99)
		return custos__aprintf("%s.E%02u", base, n);
	/* After E99, libewf counts in letters: EAA, EAB, ... EZZ, FAA. */
	n -= 100;
	ext[2] = (char)('A' + n % 26);
	n /= 26;
	ext[1] = (char)('A' + n % 26);
	n /= 26;
	ext[0] = (char)('E' + n);
	ext[3] = '\0';
	return custos__aprintf("%s.%s", base, ext);
}
