/* Progress on stderr: a live line on a terminal, or JSON lines. */
#ifndef CUSTOS_TOOLS_PROGRESS_H
#define CUSTOS_TOOLS_PROGRESS_H

#include "custos/custos.h"

typedef enum progress_mode {
	PROGRESS_NONE = 0,
	PROGRESS_TTY = 1,
	PROGRESS_JSON = 2,
} progress_mode;

typedef struct progress_state {
	progress_mode mode;
	int line_open;   /* a TTY line is drawn and needs a newline */
} progress_state;

/* "auto" picks TTY when stderr is a terminal, otherwise none. */
int progress_parse_mode(const char *text, progress_mode *out);
progress_mode progress_auto(void);

/* A custos_progress_fn; ctx is a progress_state. */
void progress_show(const custos_progress *p, void *ctx);
/* End a live line before other output. */
void progress_end(progress_state *s);

#endif
