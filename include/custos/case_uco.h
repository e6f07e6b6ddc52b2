/*
 * CASE/UCO export: an acquisition or a verified case as CASE 1.4.0 JSON-LD
 * (https://caseontology.org), for forensic tools and labs that exchange
 * case data in that form (custos-acquire(1) and custos-verify(1)
 * --case-uco).
 *
 * The document has an inline @context (no remote context) and one @graph:
 * a case-investigation:Investigation per case number; each acquisition,
 * custody transfer, export and foreign receipt as a
 * case-investigation:InvestigativeAction with uco-action:performer,
 * instrument, object and result; a case-investigation:ProvenanceRecord per
 * item (and one per transfer, saying who holds it); the tools as
 * uco-tool:Tool (custos with its version, libewf, OpenSSL); the people as
 * uco-identity:Person and the authorities as uco-identity:Organization;
 * the source medium, image files, report, bundle and receipt as
 * uco-observable:File with a ContentDataFacet whose uco-types:Hash values
 * name a HashNameVocab method (MD5, SHA1, SHA256) and carry an
 * xsd:hexBinary value; a bundle's legal request as a
 * case-investigation:Authorization (and the requesting case as an
 * Investigation).
 *
 * Every node's IRI is "urn:uuid:" and a name-based UUID (RFC 9562 version
 * 5, SHA-1) in the RFC 4122 URL namespace, of the name
 * "custos:case-uco:1" US kind US part US part ... (US = 0x1f), where the
 * parts are stable identifiers: a report's SHA-256, an item's evidence
 * number, a certificate's SHA-256, a tool's name and version, log record
 * numbers.  The same case therefore always exports the same document, and
 * custos-acquire and custos-verify give an acquisition the same IRIs.
 * Text read from evidence only ever becomes a literal value, never a key.
 */
#ifndef CUSTOS_CASE_UCO_H
#define CUSTOS_CASE_UCO_H

#include <stddef.h>

#include "common.h"
#include "error.h"
#include "verify.h"

/*
 * The export of one acquisition report (the bytes of BASE.report.json as
 * committed; report_name is the file name the document gives it).  Returns
 * CUSTOS_EFORMAT for a report that is not a custos report (or has a hash
 * that is not hex).  Caller frees *out.
 */
CUSTOS_EXTERN custos_status custos_case_uco_from_report(char **out,
		const char *report_json, size_t len, const char *report_name,
		custos_error *err);

/*
 * The export of a verification: the reports it read (each read again and
 * refused with CUSTOS_EMISMATCH if its SHA-256 is no longer the one
 * verified), the custody transfers and exports of each item, the bundles'
 * requests, the receipts, and the verification itself (an action whose
 * uco-action:actionStatus is Success, Fail or Unknown for VERIFIED, FAILED
 * or INCOMPLETE).  Caller frees *out.
 */
CUSTOS_EXTERN custos_status custos_case_uco_from_verify(char **out,
		const custos_verify_case *r, custos_error *err);

/*
 * Build the export of the report at report_path, or of r, and write it to
 * out_path, created exclusively (CUSTOS_EEXIST if anything is there).
 */
CUSTOS_EXTERN custos_status custos_case_uco_write_report(const char *out_path,
		const char *report_path, custos_error *err);
CUSTOS_EXTERN custos_status custos_case_uco_write_verify(const char *out_path,
		const custos_verify_case *r, custos_error *err);

#endif
