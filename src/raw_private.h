/*
 * Raw image writing inside a work folder, for the acquisition workflow,
 * which commits the files itself together with the report (acquire.c).
 */
#ifndef CUSTOS_RAW_PRIVATE_H
#define CUSTOS_RAW_PRIVATE_H

#include "custos/raw.h"

/*
 * Like custos_raw_writer_open, but every file is created, exclusively and
 * without following symlinks, as <work_dir>/<final name>; nothing is ever
 * renamed by the writer (custos_raw_writer_commit refuses).
 */
custos_status custos__raw_writer_open_in(custos_raw_writer **out,
		const char *base, const char *work_dir, uint64_t split_size,
		int hash_files, custos_error *err);
/* fsync and close the last file (creating it for an empty medium). */
custos_status custos__raw_writer_close(custos_raw_writer *w,
		custos_error *err);
/* Where file index is written (the work folder or the ".part" name). */
const char *custos__raw_writer_work_path(const custos_raw_writer *w,
		size_t index);

/* fsync the open file (the ones before it are synced when closed). */
custos_status custos__raw_writer_sync(custos_raw_writer *w, custos_error *err);

/*
 * For a resume: take over the files an interrupted writer left in
 * work_dir, keep their first durable bytes and drop the rest (files past
 * it are removed: the caller knows they are this tool's), and go on
 * writing at byte durable.  A file shorter than it is refused
 * (CUSTOS_EINVAL: the partial image changed).  With hash_files, the kept
 * bytes of each file are hashed again.
 */
custos_status custos__raw_writer_reopen_in(custos_raw_writer **out,
		const char *base, const char *work_dir, uint64_t split_size,
		int hash_files, uint64_t durable, custos_error *err);

#endif
