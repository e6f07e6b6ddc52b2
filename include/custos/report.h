/*
 * The acquisition report: <base>.report.json (the record), <base>.report.txt
 * (the same facts for people, fit to print) and <base>.sha256 (the image
 * files in sha256sum format).  See custos-report(5) for the fields.
 *
 * The report is written by custos_acquire_run; its JSON text is
 * custos_acquisition_report_json().  The report module itself lays out a
 * plain description of the facts (src/report_private.h) and does not
 * depend on the acquisition.
 */
#ifndef CUSTOS_REPORT_H
#define CUSTOS_REPORT_H

/* The value of "custos_report" in the JSON report. */
#define CUSTOS_REPORT_FORMAT 1

#endif
