/*
 * What the acquisition asks a source during a run, beyond the public API:
 * the kernel's read-only flag now (it is checked again after a read error
 * and at the end, since a write-blocker or `blockdev --setrw` can change
 * it while the run goes on).
 */
#ifndef CUSTOS_SOURCE_PRIVATE_H
#define CUSTOS_SOURCE_PRIVATE_H

#include "custos/source.h"

/* BLKROGET now: 1, 0, or CUSTOS_UNKNOWN (no answer); for a source that
 * is not a block device, what was known when it was opened. */
int custos__source_read_only_now(custos_source *src);

#endif
