/*
 * The commit journal of an acquisition: before the first of the renames
 * that move a finished run's files from its work folder to their final
 * names, the list of those renames (and the identity, device and inode, of
 * each file) is written durably into the work folder.  If the run dies in
 * the middle of them, a resume finds the journal and takes the renames
 * back, so the run is again one whose files all lie in its work folder,
 * and finishes as any resume does.  Only a file whose identity is the one
 * the journal recorded is ever moved back: a file someone else put under a
 * final name is never touched.
 */
#ifndef CUSTOS_COMMIT_JOURNAL_PRIVATE_H
#define CUSTOS_COMMIT_JOURNAL_PRIVATE_H

#include <stddef.h>

#include "custos/error.h"

#define CUSTOS__JOURNAL_NAME "custos-commit.json"

typedef struct custos__journal_step {
	const char *work;  /* inside the work folder */
	const char *final; /* beside <base> */
} custos__journal_step;

/*
 * Write work_dir/custos-commit.json, exclusively and synced, for these
 * steps (every work file must exist).  base is the run's <base>: every
 * final name must be "<base>." followed by a name without a slash.
 */
custos_status custos__journal_write(const char *work_dir, const char *base,
		const custos__journal_step *steps, size_t count,
		custos_error *err);

/*
 * If work_dir holds a journal, take its renames back, last first: a final
 * name that holds the recorded file is renamed back to its work name; a
 * work name that still holds it is left; anything else (a final name
 * holding another file, a file gone) refuses with the reason, and what was
 * already moved back stays in the work folder.  Then the journal goes.
 * *found is 1 when there was a journal.
 */
custos_status custos__journal_undo(const char *work_dir, const char *base,
		int *found, custos_error *err);

/* Remove work_dir's journal (after a commit that completed). */
void custos__journal_remove(const char *work_dir);

#endif
