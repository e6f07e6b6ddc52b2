/*
 * The acquisition report: <base>.report.json (the record), <base>.report.txt
 * (the same facts for people, fit to print) and <base>.sha256 (the image
 * files in sha256sum format).  See custos-report(5) for the fields.
 */
#ifndef CUSTOS_REPORT_H
#define CUSTOS_REPORT_H

#include "acquire.h"
#include "common.h"
#include "error.h"

#define CUSTOS_REPORT_FORMAT 1

/* Caller frees *out with free(). */
CUSTOS_EXTERN custos_status custos_report_to_json(char **out,
		const custos_acquisition *a, custos_error *err);
CUSTOS_EXTERN custos_status custos_report_to_text(char **out,
		const custos_acquisition *a, custos_error *err);

#endif
