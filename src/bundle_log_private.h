/*
 * The receiver's custody record (bundle_log.c), appended by
 * custos_bundle_receipt_write (receipt.c) once the receipt is signed.
 */
#ifndef CUSTOS_BUNDLE_LOG_PRIVATE_H
#define CUSTOS_BUNDLE_LOG_PRIVATE_H

#include "custos/bundle.h"
#include "custos/sign.h"

/* 'received' (an encrypted bundle) or 'verified' (a plain bag) in the log
 * in log_dir, naming the receipt by receipt_sha256. */
custos_status custos__bundle_log_received(const char *log_dir,
		const custos_bundle_summary *sum, const char *receipt_sha256,
		int clean, const char *storage, const custos_sign_options *sign,
		custos_error *err);

#endif
