/*
 * The CASE/UCO export (include/custos/case_uco.h): builds a CASE 1.4.0
 * JSON-LD graph with jansson from an acquisition report or from a
 * verification's JSON (custos_verify_case_to_json), with name-based UUID
 * IRIs so that the same case always gives the same document.  It owns the
 * mapping from custos' facts to CASE/UCO classes and properties; nothing
 * here checks evidence (custos-verify does that).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "custos/case_uco.h"
#include "custos/digest.h"
#include "custos/version.h"
#include "error_private.h"
#include "fileio_private.h"

/* Reports are read whole; the same bound as custos-verify's. */
#define REPORT_MAX (16u << 20)
#define NAME_MAX_PARTS 8

static const char *const context_terms[][2] = {
	{"case-investigation",
	 "https://ontology.caseontology.org/case/investigation/"},
	{"uco-action", "https://ontology.unifiedcyberontology.org/uco/action/"},
	{"uco-core", "https://ontology.unifiedcyberontology.org/uco/core/"},
	{"uco-identity",
	 "https://ontology.unifiedcyberontology.org/uco/identity/"},
	{"uco-observable",
	 "https://ontology.unifiedcyberontology.org/uco/observable/"},
	{"uco-tool", "https://ontology.unifiedcyberontology.org/uco/tool/"},
	{"uco-types", "https://ontology.unifiedcyberontology.org/uco/types/"},
	{"xsd", "http://www.w3.org/2001/XMLSchema#"},
};

typedef struct uco_doc {
	json_t *graph;       /* top-level nodes, in the order made */
	json_t *by_iri;      /* {iri: node} (borrowed from graph) */
	int oom;
} uco_doc;

/* ---- IRIs ---- */

/*
 * "urn:uuid:" + UUIDv5(URL namespace, "custos:case-uco:1" US parts...).
 * parts ends with NULL; a NULL part in the middle is written as "".
 */
static void mint(char out[46], const char *kind, ...)
{
	static const unsigned char ns_url[16] = {0x6b, 0xa7, 0xb8, 0x11,
		0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4,
		0x30, 0xc8};
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	const char *part;
	va_list ap;
	int ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha1(), NULL);

	ok = ok && EVP_DigestUpdate(ctx, ns_url, sizeof(ns_url));
	ok = ok && EVP_DigestUpdate(ctx, "custos:case-uco:1\x1f", 18);
	ok = ok && EVP_DigestUpdate(ctx, kind, strlen(kind));
	va_start(ap, kind);
	while (ok && (part = va_arg(ap, const char *)) != NULL) {
		ok = EVP_DigestUpdate(ctx, "\x1f", 1) &&
			EVP_DigestUpdate(ctx, part, strlen(part));
	}
	va_end(ap);
	ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen) && mdlen >= 16;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		memset(md, 0, 16);
	md[6] = (unsigned char)((md[6] & 0x0f) | 0x50);
	md[8] = (unsigned char)((md[8] & 0x3f) | 0x80);
	snprintf(out, 46, "urn:uuid:%02x%02x%02x%02x-%02x%02x-%02x%02x-"
		"%02x%02x-%02x%02x%02x%02x%02x%02x", md[0], md[1], md[2],
		md[3], md[4], md[5], md[6], md[7], md[8], md[9], md[10],
		md[11], md[12], md[13], md[14], md[15]);
}

/* ---- graph building ---- */

static const char *jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static const char *or_empty(const char *s)
{
	return s != NULL ? s : "";
}

static void put(uco_doc *d, json_t *node, const char *key, json_t *value)
{
	if (value == NULL || json_object_set_new(node, key, value) != 0)
		d->oom = 1;
}

/* A top-level node; the same IRI twice gives the node made first. */
static json_t *node(uco_doc *d, const char *iri, const char *type)
{
	json_t *n = json_object_get(d->by_iri, iri);

	if (n != NULL)
		return n;
	n = json_object();
	if (n == NULL || json_array_append_new(d->graph, n) != 0) {
		d->oom = 1;
		return NULL;
	}
	put(d, n, "@id", json_string(iri));
	put(d, n, "@type", json_string(type));
	if (json_object_set(d->by_iri, iri, n) != 0)
		d->oom = 1;
	return n;
}

static void set_text(uco_doc *d, json_t *n, const char *key, const char *s)
{
	if (n != NULL && s != NULL && json_object_get(n, key) == NULL)
		put(d, n, key, json_string(s));
}

static json_t *ref(const char *iri)
{
	return json_pack("{s:s}", "@id", iri);
}

/* Append {"@id": iri} to the array n[key], once. */
static void add_ref(uco_doc *d, json_t *n, const char *key, const char *iri)
{
	json_t *a, *v;
	size_t i;

	if (n == NULL || iri == NULL)
		return;
	a = json_object_get(n, key);
	if (a == NULL) {
		a = json_array();
		put(d, n, key, a);
		if (d->oom)
			return;
	}
	json_array_foreach(a, i, v)
		if (strcmp(or_empty(jstr(v, "@id")), iri) == 0)
			return;
	if (json_array_append_new(a, ref(iri)) != 0)
		d->oom = 1;
}

static void set_ref(uco_doc *d, json_t *n, const char *key, const char *iri)
{
	if (n != NULL && iri != NULL && json_object_get(n, key) == NULL)
		put(d, n, key, ref(iri));
}

/* RFC 3339 with seconds, as xsd:dateTime wants it; anything else is left
 * out rather than written as a value the shapes would refuse. */
static int is_datetime(const char *s)
{
	static const char form[] = "dddd-dd-ddTdd:dd:dd";
	size_t i;

	if (s == NULL || strlen(s) < sizeof(form))
		return 0;
	for (i = 0; i < sizeof(form) - 1; i++)
		if (form[i] == 'd' ? (s[i] < '0' || s[i] > '9')
				   : s[i] != form[i])
			return 0;
	if (s[i] == '.') {
		i++;
		if (s[i] < '0' || s[i] > '9')
			return 0;
		while (s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (strcmp(s + i, "Z") == 0)
		return 1;
	return (s[i] == '+' || s[i] == '-') && strlen(s + i) == 6 &&
		s[i + 1] >= '0' && s[i + 1] <= '9' && s[i + 2] >= '0' &&
		s[i + 2] <= '9' && s[i + 3] == ':' && s[i + 4] >= '0' &&
		s[i + 4] <= '9' && s[i + 5] >= '0' && s[i + 5] <= '9';
}

static void set_time(uco_doc *d, json_t *n, const char *key, const char *s)
{
	if (n != NULL && is_datetime(s) && json_object_get(n, key) == NULL)
		put(d, n, key, json_pack("{s:s, s:s}", "@type",
			"xsd:dateTime", "@value", s));
}

/* Even-length hex (xsd:hexBinary). */
static int is_hex(const char *s)
{
	size_t n = 0;

	if (s == NULL)
		return 0;
	for (; s[n] != '\0'; n++)
		if (!((s[n] >= '0' && s[n] <= '9') ||
		      (s[n] >= 'a' && s[n] <= 'f') ||
		      (s[n] >= 'A' && s[n] <= 'F')))
			return 0;
	return n > 0 && n % 2 == 0;
}

/* custos' algorithm names to UCO's HashNameVocab. */
static const char *hash_method(const char *alg)
{
	static const char *const names[][2] = {
		{"md5", "MD5"}, {"sha1", "SHA1"}, {"sha224", "SHA224"},
		{"sha256", "SHA256"}, {"sha384", "SHA384"},
		{"sha512", "SHA512"}, {"sha3-256", "SHA3-256"},
		{"sha3-512", "SHA3-512"},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(alg, names[i][0]) == 0)
			return names[i][1];
	return NULL;
}

/*
 * A uco-observable:File with a FileFacet (name, path, size) and a
 * ContentDataFacet (size, hashes {alg: hex}).  Returns its IRI in iri.
 */
static json_t *file_node(uco_doc *d, const char *iri, const char *name,
		const char *path, const json_t *size, const json_t *hashes,
		const char *description)
{
	json_t *n = node(d, iri, "uco-observable:File"), *facets, *f, *hv;
	char fiol[46];
	const char *alg;

	if (n == NULL || json_object_get(n, "uco-core:hasFacet") != NULL)
		return n;
	set_text(d, n, "uco-core:name", name);
	set_text(d, n, "uco-core:description", description);
	facets = json_array();
	put(d, n, "uco-core:hasFacet", facets);
	if (d->oom)
		return n;
	mint(fiol, "file-facet", iri, NULL);
	f = json_pack("{s:s, s:s}", "@id", fiol, "@type",
		"uco-observable:FileFacet");
	if (f == NULL || json_array_append_new(facets, f) != 0) {
		d->oom = 1;
		return n;
	}
	set_text(d, f, "uco-observable:fileName", name);
	set_text(d, f, "uco-observable:filePath", path);
	if (json_is_integer(size))
		put(d, f, "uco-observable:sizeInBytes", json_copy((json_t *)size));
	mint(fiol, "content-data-facet", iri, NULL);
	f = json_pack("{s:s, s:s}", "@id", fiol, "@type",
		"uco-observable:ContentDataFacet");
	if (f == NULL || json_array_append_new(facets, f) != 0) {
		d->oom = 1;
		return n;
	}
	if (json_is_integer(size))
		put(d, f, "uco-observable:sizeInBytes", json_copy((json_t *)size));
	json_object_foreach((json_t *)hashes, alg, hv) {
		const char *method = hash_method(alg);
		char hiri[46];
		json_t *h, *list;

		if (method == NULL || !is_hex(json_string_value(hv)))
			continue;
		mint(hiri, "hash", iri, method, NULL);
		h = json_pack("{s:s, s:s, s:s, s:{s:s, s:s}}", "@id", hiri,
			"@type", "uco-types:Hash", "uco-types:hashMethod",
			method, "uco-types:hashValue", "@type",
			"xsd:hexBinary", "@value", json_string_value(hv));
		list = json_object_get(f, "uco-observable:hash");
		if (list == NULL) {
			list = json_array();
			put(d, f, "uco-observable:hash", list);
		}
		if (h == NULL || list == NULL ||
		    json_array_append_new(list, h) != 0)
			d->oom = 1;
	}
	return n;
}

static json_t *tool(uco_doc *d, char iri[46], const char *name,
		const char *version, const char *type)
{
	json_t *n;

	mint(iri, "tool", name, or_empty(version), NULL);
	n = node(d, iri, "uco-tool:Tool");
	set_text(d, n, "uco-core:name", name);
	set_text(d, n, "uco-tool:version", version);
	set_text(d, n, "uco-tool:toolType", type);
	return n;
}

/* A person known by a certificate fingerprint when there is one, else by
 * name alone.  Returns 0 when there is neither. */
static int person(uco_doc *d, char iri[46], const char *name,
		const char *cert_sha256, const char *role)
{
	json_t *n;

	if (cert_sha256 != NULL && *cert_sha256 != '\0')
		mint(iri, "identity", "certificate", cert_sha256, NULL);
	else if (name != NULL && *name != '\0')
		mint(iri, "identity", "name", name, NULL);
	else
		return 0;
	n = node(d, iri, "uco-identity:Person");
	set_text(d, n, "uco-core:name", name);
	if (n != NULL && role != NULL &&
	    json_object_get(n, "uco-core:description") == NULL) {
		char *text = NULL;

		if (asprintf(&text, "%s%s%s", role, cert_sha256 ?
				"; certificate SHA-256 " : "",
				cert_sha256 ? cert_sha256 : "") < 0)
			d->oom = 1;
		else
			set_text(d, n, "uco-core:description", text);
		free(text);
	}
	return 1;
}

static void organization(uco_doc *d, char iri[46], const json_t *who)
{
	const char *name = jstr(who, "name");
	json_t *n;

	iri[0] = '\0';
	if (name == NULL)
		return;
	mint(iri, "organization", name, or_empty(jstr(who, "country")), NULL);
	n = node(d, iri, "uco-identity:Organization");
	set_text(d, n, "uco-core:name", name);
	if (n != NULL && json_object_get(n, "uco-core:description") == NULL &&
	    (jstr(who, "role") != NULL || jstr(who, "country") != NULL)) {
		char *text = NULL;

		if (asprintf(&text, "%s%s%s", or_empty(jstr(who, "role")),
				jstr(who, "role") && jstr(who, "country") ?
				", " : "", jstr(who, "country") ?
				jstr(who, "country") : "") < 0)
			d->oom = 1;
		else
			set_text(d, n, "uco-core:description", text);
		free(text);
	}
}

static json_t *investigation(uco_doc *d, char iri[46], const char *number)
{
	json_t *n;

	mint(iri, "investigation", or_empty(number), NULL);
	n = node(d, iri, "case-investigation:Investigation");
	set_text(d, n, "uco-core:name", number ? number : "(no case number)");
	return n;
}

static void authorize(uco_doc *d, json_t *inv, const char *type,
		const char *identifier, const char *name,
		const char *description, const char *issuer_iri)
{
	char iri[46];
	json_t *a;

	if (identifier == NULL)
		return;
	mint(iri, "authorization", or_empty(type), identifier, NULL);
	a = node(d, iri, "case-investigation:Authorization");
	set_text(d, a, "case-investigation:authorizationType", type);
	set_text(d, a, "case-investigation:authorizationIdentifier",
		identifier);
	set_text(d, a, "uco-core:name", name);
	set_text(d, a, "uco-core:description", description);
	if (issuer_iri != NULL && *issuer_iri != '\0')
		set_ref(d, a, "uco-core:createdBy", issuer_iri);
	add_ref(d, inv, "case-investigation:relevantAuthorization", iri);
}

static void action_status(uco_doc *d, json_t *a, const char *status)
{
	set_text(d, a, "uco-action:actionStatus", status);
}

/* ---- one acquisition report ---- */

/* What the rest of the graph refers to for one item. */
typedef struct item_refs {
	char evidence[128];
	char provenance[46];
	json_t *objects;     /* [iri strings]: medium, image files, report */
} item_refs;

static custos_status add_report(uco_doc *d, item_refs *item,
		const json_t *rep, const char *report_sha256,
		const char *report_name, const char *inv_iri,
		custos_error *err)
{
	const json_t *t = json_object_get(rep, "tool"),
		*c = json_object_get(rep, "case"),
		*src = json_object_get(rep, "source"),
		*img = json_object_get(rep, "image"),
		*sig = json_object_get(rep, "signature"),
		*files = json_object_get(img, "files"), *f, *hashes;
	const char *evidence = jstr(c, "evidence_number"),
		*case_no = jstr(c, "case_number"), *alg;
	char iri[46], tool_iri[46], who[46], medium[46], action[46];
	json_t *a, *pr, *hv;
	size_t i;
	char *text = NULL;

	if (!json_is_object(rep) || json_integer_value(json_object_get(rep,
			"custos_report")) != 1 || !json_is_object(t) ||
	    !json_is_object(c) || !json_is_object(src))
		return custos__error_set(err, CUSTOS_EFORMAT,
			"%s is not a custos acquisition report", report_name);
	hashes = json_object_get(rep, "hashes");
	json_object_foreach((json_t *)hashes, alg, hv)
		if (!is_hex(json_string_value(hv)))
			return custos__error_set(err, CUSTOS_EFORMAT,
				"%s: hash %s is not hex", report_name, alg);

	mint(action, "acquisition", report_sha256, NULL);
	a = node(d, action, "case-investigation:InvestigativeAction");
	set_text(d, a, "uco-core:name", "acquired");
	if (asprintf(&text, "forensic image of evidence item %s (case %s) "
			"on host %s; report %s", or_empty(evidence),
			or_empty(case_no), or_empty(jstr(rep, "host")),
			report_name) < 0)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	set_text(d, a, "uco-core:description", text);
	free(text);
	text = NULL;
	set_time(d, a, "uco-action:startTime", jstr(rep, "started_at"));
	set_time(d, a, "uco-action:endTime", jstr(rep, "finished_at"));
	action_status(d, a, strcmp(or_empty(jstr(rep, "result")),
		"complete") == 0 ? "Success" : strcmp(or_empty(jstr(rep,
		"result")), "aborted") == 0 ? "Error" : "Fail");

	if (person(d, who, jstr(c, "examiner"), jstr(sig,
			"certificate_sha256"), "examiner"))
		set_ref(d, a, "uco-action:performer", who);
	tool(d, tool_iri, or_empty(jstr(t, "name")), jstr(t, "version"),
		"acquisition");
	add_ref(d, a, "uco-action:instrument", tool_iri);
	if (jstr(t, "libewf") != NULL) {
		tool(d, tool_iri, "libewf", jstr(t, "libewf"), "library");
		add_ref(d, a, "uco-action:instrument", tool_iri);
	}
	if (jstr(t, "openssl") != NULL) {
		tool(d, tool_iri, "OpenSSL", jstr(t, "openssl"), "library");
		add_ref(d, a, "uco-action:instrument", tool_iri);
	}

	/* The medium: the bytes that were read, with the hashes of them. */
	mint(medium, "medium", or_empty(case_no), or_empty(evidence),
		or_empty(jstr(hashes, "sha256")), report_sha256, NULL);
	if (asprintf(&text, "source medium of evidence item %s (%s%s%s%s%s)",
			or_empty(evidence), or_empty(jstr(src, "kind")),
			jstr(src, "model") ? ", model " : "",
			or_empty(jstr(src, "model")),
			jstr(src, "serial") ? ", serial " : "",
			or_empty(jstr(src, "serial"))) < 0)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	file_node(d, medium, jstr(src, "path") ? strrchr(jstr(src, "path"),
		'/') ? strrchr(jstr(src, "path"), '/') + 1 : jstr(src, "path")
		: evidence, jstr(src, "path"), json_object_get(src,
		"size_bytes"), hashes, text);
	free(text);
	text = NULL;
	add_ref(d, a, "uco-action:object", medium);

	/* The provenance record of the item. */
	mint(item->provenance, "provenance", or_empty(case_no),
		or_empty(evidence), report_sha256, NULL);
	snprintf(item->evidence, sizeof(item->evidence), "%s",
		or_empty(evidence));
	pr = node(d, item->provenance, "case-investigation:ProvenanceRecord");
	set_text(d, pr, "case-investigation:exhibitNumber", evidence);
	if (asprintf(&text, "evidence item %s of case %s as acquired",
			or_empty(evidence), or_empty(case_no)) < 0)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	set_text(d, pr, "uco-core:description", text);
	free(text);
	text = NULL;
	add_ref(d, a, "uco-action:result", item->provenance);
	add_ref(d, pr, "uco-core:object", medium);
	json_array_append_new(item->objects, json_string(medium));

	json_array_foreach(files, i, f) {
		json_t *one = json_pack("{s:O?}", "sha256",
			json_object_get(f, "sha256"));

		mint(iri, "image-file", or_empty(jstr(f, "name")),
			or_empty(jstr(f, "sha256")), NULL);
		file_node(d, iri, jstr(f, "name"), NULL, json_object_get(f,
			"size_bytes"), one, "image file");
		json_decref(one);
		add_ref(d, a, "uco-action:result", iri);
		add_ref(d, pr, "uco-core:object", iri);
		json_array_append_new(item->objects, json_string(iri));
	}
	{
		json_t *one = json_pack("{s:s}", "sha256", report_sha256);

		mint(iri, "report-file", report_sha256, NULL);
		file_node(d, iri, report_name, NULL, NULL, one,
			"acquisition report (custos-report JSON)");
		json_decref(one);
		add_ref(d, a, "uco-action:result", iri);
		add_ref(d, pr, "uco-core:object", iri);
		json_array_append_new(item->objects, json_string(iri));
	}
	(void)inv_iri;
	return d->oom ? custos__error_set(err, CUSTOS_ENOMEM, "out of memory")
		      : CUSTOS_OK;
}

/* ---- the document ---- */

static custos_status doc_init(uco_doc *d, custos_error *err)
{
	d->graph = json_array();
	d->by_iri = json_object();
	d->oom = 0;
	if (d->graph == NULL || d->by_iri == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	return CUSTOS_OK;
}

static void doc_free(uco_doc *d)
{
	json_decref(d->graph);
	json_decref(d->by_iri);
}

/* Every top-level node but the investigations is an object of inv. */
static void gather(uco_doc *d, json_t *inv)
{
	json_t *n;
	size_t i;

	json_array_foreach(d->graph, i, n) {
		const char *type = jstr(n, "@type");

		if (type != NULL && strcmp(type,
				"case-investigation:Investigation") != 0)
			add_ref(d, inv, "uco-core:object", jstr(n, "@id"));
	}
}

static custos_status doc_finish(char **out, uco_doc *d, custos_error *err)
{
	json_t *ctx = json_object(), *root;

	*out = NULL;
	for (size_t i = 0; ctx != NULL &&
	     i < sizeof(context_terms) / sizeof(context_terms[0]); i++)
		if (json_object_set_new(ctx, context_terms[i][0],
				json_string(context_terms[i][1])) != 0)
			d->oom = 1;
	root = json_pack("{s:o, s:O}", "@context", ctx, "@graph", d->graph);
	if (root == NULL || d->oom) {
		json_decref(root);
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	}
	*out = json_dumps(root, JSON_INDENT(2) | JSON_ENSURE_ASCII |
		JSON_PRESERVE_ORDER);
	json_decref(root);
	if (*out == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	return CUSTOS_OK;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL ? slash + 1 : path;
}

custos_status custos_case_uco_from_report(char **out,
		const char *report_json, size_t len, const char *report_name,
		custos_error *err)
{
	char sha256[CUSTOS_DIGEST_HEX_MAX], inv_iri[46];
	item_refs item = {0};
	json_error_t jerr;
	json_t *rep, *inv;
	uco_doc d;
	custos_status st;

	*out = NULL;
	if (custos_digest_buffer_hex(CUSTOS_DIGEST_SHA256, report_json, len,
			sha256, sizeof(sha256), err) != CUSTOS_OK)
		return err->status;
	rep = json_loadb(report_json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (rep == NULL)
		return custos__error_set(err, CUSTOS_EFORMAT,
			"%s is not JSON: %s", report_name, jerr.text);
	if ((st = doc_init(&d, err)) != CUSTOS_OK ||
	    (item.objects = json_array()) == NULL) {
		json_decref(rep);
		doc_free(&d);
		return st != CUSTOS_OK ? st : custos__error_set(err,
			CUSTOS_ENOMEM, "out of memory");
	}
	inv = investigation(&d, inv_iri, jstr(json_object_get(rep, "case"),
		"case_number"));
	st = add_report(&d, &item, rep, sha256, base_name(report_name),
		inv_iri, err);
	if (st == CUSTOS_OK) {
		gather(&d, inv);
		st = doc_finish(out, &d, err);
	}
	json_decref(item.objects);
	json_decref(rep);
	doc_free(&d);
	return st;
}

/* ---- a verification ---- */

static item_refs *find_item(item_refs *items, size_t n, const char *ev)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(items[i].evidence, ev) == 0)
			return &items[i];
	return NULL;
}

/* Read a report again and make sure it is the one that was verified. */
static custos_status read_verified(json_t **rep, const char *path,
		const char *sha256, custos_error *err)
{
	unsigned char *data = NULL;
	char now[CUSTOS_DIGEST_HEX_MAX];
	size_t len = 0;
	custos_status st;

	*rep = NULL;
	st = custos__read_file_max(path, REPORT_MAX, &data, &len, "report",
		err);
	if (st != CUSTOS_OK)
		return st;
	st = custos_digest_buffer_hex(CUSTOS_DIGEST_SHA256, data, len, now,
		sizeof(now), err);
	if (st == CUSTOS_OK && strcmp(now, sha256) != 0)
		st = custos__error_set(err, CUSTOS_EMISMATCH, "%s changed "
			"after it was verified", path);
	if (st == CUSTOS_OK)
		*rep = json_loadb((const char *)data, len,
			JSON_REJECT_DUPLICATES, NULL);
	free(data);
	return st;
}

static void add_transfers(uco_doc *d, item_refs *item, const char *name,
		const json_t *facts, const char *case_no)
{
	const json_t *tr;
	char log_tool[46];
	size_t i;

	tool(d, log_tool, "custos-log", NULL, "chain of custody log");
	json_array_foreach(json_object_get(facts, "transfers"), i, tr) {
		const json_t *rel = json_object_get(tr, "released_by"),
			*rec = json_object_get(tr, "received_by");
		char act[46], giver[46], taker[46], pr_iri[46];
		char rs[32], qs[32], *text = NULL;
		json_t *a, *pr, *o;
		size_t j;

		snprintf(rs, sizeof(rs), "%lld", (long long)json_integer_value(
			json_object_get(tr, "released_seq")));
		snprintf(qs, sizeof(qs), "%lld", (long long)json_integer_value(
			json_object_get(tr, "received_seq")));
		mint(act, "transfer", or_empty(case_no), name, rs, qs,
			or_empty(jstr(rel, "cert_sha256")),
			or_empty(jstr(rec, "cert_sha256")), NULL);
		a = node(d, act, "case-investigation:InvestigativeAction");
		set_text(d, a, "uco-core:name", "custody transfer");
		if (asprintf(&text, "item %s released by %s to %s (custody "
				"record %s) and received by %s (record %s)",
				name, or_empty(jstr(rel, "name")),
				or_empty(jstr(tr, "to")), rs,
				or_empty(jstr(rec, "name")), qs) < 0) {
			d->oom = 1;
			return;
		}
		set_text(d, a, "uco-core:description", text);
		free(text);
		text = NULL;
		set_time(d, a, "uco-action:startTime", jstr(rel, "event_time"));
		set_time(d, a, "uco-action:endTime", jstr(rec, "event_time"));
		action_status(d, a, "Complete/Finish");
		if (person(d, giver, jstr(rel, "name"), jstr(rel,
				"cert_sha256"), NULL))
			set_ref(d, a, "uco-action:performer", giver);
		if (person(d, taker, jstr(rec, "name"), jstr(rec,
				"cert_sha256"), NULL))
			add_ref(d, a, "uco-action:participant", taker);
		add_ref(d, a, "uco-action:instrument", log_tool);
		/* What moved, and the record of where it is now. */
		mint(pr_iri, "provenance", or_empty(case_no), name, "held",
			qs, NULL);
		pr = node(d, pr_iri, "case-investigation:ProvenanceRecord");
		set_text(d, pr, "case-investigation:exhibitNumber", name);
		if (asprintf(&text, "evidence item %s in the custody of %s "
				"from record %s", name, or_empty(jstr(rec,
				"name")), qs) < 0) {
			d->oom = 1;
			return;
		}
		set_text(d, pr, "uco-core:description", text);
		free(text);
		add_ref(d, a, "uco-action:object", item->provenance);
		json_array_foreach(item->objects, j, o) {
			add_ref(d, a, "uco-action:object", json_string_value(o));
			add_ref(d, pr, "uco-core:object", json_string_value(o));
		}
		add_ref(d, a, "uco-action:result", pr_iri);
	}
}

/* The bundle file (its transfer manifest) and the sender. */
static void bundle_file(uco_doc *d, char iri[46], const json_t *b)
{
	json_t *h = json_pack("{s:O?}", "sha256", json_object_get(b,
		"transfer_manifest_sha256"));

	mint(iri, "bundle", or_empty(jstr(b, "bundle_id")), or_empty(jstr(b,
		"transfer_manifest_sha256")), NULL);
	file_node(d, iri, jstr(b, "bundle_id"), NULL, NULL, h,
		"evidence bundle (signed transfer manifest)");
	json_decref(h);
}

static const json_t *bundle_by_id(const json_t *bundles, const char *id)
{
	const json_t *b;
	size_t i;

	json_array_foreach(bundles, i, b)
		if (id != NULL && strcmp(or_empty(jstr(b, "bundle_id")), id) == 0)
			return b;
	return NULL;
}

static void add_exports(uco_doc *d, item_refs *item, const char *name,
		const json_t *facts, const json_t *bundles)
{
	const json_t *ex;
	char bundle_tool[46];
	size_t i;

	tool(d, bundle_tool, "custos-bundle", NULL, "evidence bundle");
	json_array_foreach(json_object_get(facts, "exports"), i, ex) {
		const json_t *b = bundle_by_id(bundles, jstr(ex, "bundle_id")),
			*sender = json_object_get(b, "sender"), *o;
		char act[46], file[46], who[46], seq[32], *text = NULL;
		json_t *a;
		size_t j;

		snprintf(seq, sizeof(seq), "%lld", (long long)
			json_integer_value(json_object_get(ex, "seq")));
		mint(act, "export", name, seq, or_empty(jstr(ex,
			"transfer_manifest_sha256")), NULL);
		a = node(d, act, "case-investigation:InvestigativeAction");
		set_text(d, a, "uco-core:name", "exported");
		if (asprintf(&text, "item %s exported in bundle %s (custody "
				"record %s)", name, or_empty(jstr(ex,
				"bundle_id")), seq) < 0) {
			d->oom = 1;
			return;
		}
		set_text(d, a, "uco-core:description", text);
		free(text);
		action_status(d, a, "Complete/Finish");
		if (person(d, who, jstr(sender, "common_name"), jstr(sender,
				"sha256"), jstr(sender, "role")))
			set_ref(d, a, "uco-action:performer", who);
		add_ref(d, a, "uco-action:instrument", bundle_tool);
		json_array_foreach(item->objects, j, o)
			add_ref(d, a, "uco-action:object", json_string_value(o));
		bundle_file(d, file, b != NULL ? b : ex);
		add_ref(d, a, "uco-action:result", file);
	}
}

static void add_request(uco_doc *d, json_t *inv, const json_t *req)
{
	const json_t *ins = json_object_get(req, "instrument"),
		*refs = json_object_get(req, "references"), *it;
	char issuer[46], other[46], *name = NULL;
	json_t *foreign;
	size_t i;

	if (!json_is_object(req))
		return;
	organization(d, issuer, json_object_get(req, "issuing_authority"));
	organization(d, other, json_object_get(req, "requesting_authority"));
	organization(d, other, json_object_get(req, "requested_authority"));
	organization(d, other, json_object_get(req, "executing_authority"));
	if (jstr(ins, "name") != NULL && asprintf(&name, "%s%s%s",
			jstr(ins, "name"), jstr(ins, "article") ?
			", article " : "", or_empty(jstr(ins, "article"))) < 0) {
		d->oom = 1;
		return;
	}
	authorize(d, inv, jstr(req, "measure"), jstr(refs, "request"), name,
		jstr(json_object_get(req, "offence"), "description"), issuer);
	/* The requesting state's own case, under the same authorization. */
	if (jstr(refs, "case") != NULL) {
		foreign = investigation(d, other, jstr(refs, "case"));
		set_text(d, foreign, "uco-core:description",
			jstr(json_object_get(req, "offence"), "description"));
		authorize(d, foreign, jstr(req, "measure"), jstr(refs,
			"request"), name, NULL, issuer);
	}
	free(name);
	json_array_foreach(json_object_get(req, "items"), i, it)
		authorize(d, inv, "warrant", jstr(it, "warrant"), NULL,
			jstr(it, "file"), NULL);
}

static void add_receipts(uco_doc *d, const json_t *v)
{
	const json_t *rc, *bundles = json_object_get(v, "bundles");
	char bundle_tool[46];
	size_t i;

	json_array_foreach(json_object_get(v, "receipts"), i, rc) {
		const json_t *signer = json_object_get(rc, "signer"),
			*b = bundle_by_id(bundles, jstr(rc, "bundle_id"));
		char act[46], file[46], who[46];
		json_t *a, *h;

		if (jstr(rc, "sha256") == NULL)
			continue;
		tool(d, bundle_tool, "custos-bundle", NULL, "evidence bundle");
		mint(act, "receipt", jstr(rc, "sha256"), NULL);
		a = node(d, act, "case-investigation:InvestigativeAction");
		set_text(d, a, "uco-core:name", "received abroad");
		set_text(d, a, "uco-core:description",
			"the foreign authority's signed receipt of the bundle");
		action_status(d, a, "Complete/Finish");
		if (person(d, who, jstr(signer, "common_name"), jstr(signer,
				"sha256"), jstr(signer, "role")))
			set_ref(d, a, "uco-action:performer", who);
		add_ref(d, a, "uco-action:instrument", bundle_tool);
		if (b != NULL) {
			bundle_file(d, file, b);
			add_ref(d, a, "uco-action:object", file);
		}
		h = json_pack("{s:s}", "sha256", jstr(rc, "sha256"));
		mint(file, "receipt-file", jstr(rc, "sha256"), NULL);
		file_node(d, file, jstr(rc, "path") ? base_name(jstr(rc,
			"path")) : NULL, NULL, NULL, h, "signed receipt");
		json_decref(h);
		add_ref(d, a, "uco-action:result", file);
	}
}

static void add_verification(uco_doc *d, const json_t *v,
		const char *verdict)
{
	char act[46], t[46];
	json_t *a, *n;
	size_t i;
	char *text = NULL;

	/* Named by what was verified and the verdict: stable for a case. */
	mint(act, "verification", verdict, or_empty(json_string_value(
		json_object_get(json_array_get(json_object_get(v, "reports"),
		0), "sha256"))), or_empty(json_string_value(json_object_get(
		json_array_get(json_object_get(v, "bundles"), 0),
		"transfer_manifest_sha256"))), NULL);
	a = node(d, act, "case-investigation:InvestigativeAction");
	set_text(d, a, "uco-core:name", "verified");
	if (asprintf(&text, "custos-verify verdict %s: %s", verdict,
			or_empty(jstr(v, "reason"))) < 0) {
		d->oom = 1;
		return;
	}
	set_text(d, a, "uco-core:description", text);
	free(text);
	action_status(d, a, strcmp(verdict, "VERIFIED") == 0 ? "Success" :
		strcmp(verdict, "FAILED") == 0 ? "Fail" : "Unknown");
	tool(d, t, "custos-verify", custos_version(), "verification");
	add_ref(d, a, "uco-action:instrument", t);
	tool(d, t, "libewf", custos_version_libewf(), "library");
	add_ref(d, a, "uco-action:instrument", t);
	tool(d, t, "OpenSSL", custos_version_openssl(), "library");
	add_ref(d, a, "uco-action:instrument", t);
	json_array_foreach(d->graph, i, n)
		if (strcmp(or_empty(jstr(n, "@type")),
				"uco-observable:File") == 0)
			add_ref(d, a, "uco-action:object", jstr(n, "@id"));
}

custos_status custos_case_uco_from_verify(char **out,
		const custos_verify_case *r, custos_error *err)
{
	char *vtext = NULL, inv_iri[46];
	item_refs *items = NULL;
	size_t nitems = 0, i;
	const json_t *rep, *facts;
	const char *name, *case_no = NULL;
	json_t *v = NULL, *inv;
	uco_doc d = {0};
	custos_status st;

	*out = NULL;
	if ((st = custos_verify_case_to_json(&vtext, r, err)) != CUSTOS_OK)
		return st;
	v = json_loads(vtext, 0, NULL);
	free(vtext);
	if (v == NULL || (st = doc_init(&d, err)) != CUSTOS_OK) {
		json_decref(v);
		doc_free(&d);
		return st != CUSTOS_OK ? st : custos__error_set(err,
			CUSTOS_ENOMEM, "out of memory");
	}
	json_array_foreach(json_object_get(v, "reports"), i, rep)
		if (case_no == NULL)
			case_no = jstr(rep, "case");
	inv = investigation(&d, inv_iri, case_no);
	items = calloc(json_array_size(json_object_get(v, "reports")) +
		json_object_size(json_object_get(v, "items")) + 1,
		sizeof(*items));
	if (items == NULL) {
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		goto out;
	}
	json_array_foreach(json_object_get(v, "reports"), i, rep) {
		json_t *rj;

		if (jstr(rep, "sha256") == NULL || jstr(rep, "path") == NULL ||
		    *jstr(rep, "sha256") == '\0')
			continue;
		st = read_verified(&rj, jstr(rep, "path"), jstr(rep, "sha256"),
			err);
		if (st != CUSTOS_OK)
			goto out;
		if (rj == NULL)
			continue;   /* not JSON: a failed check, no acquisition */
		items[nitems].objects = json_array();
		if (items[nitems].objects == NULL) {
			json_decref(rj);
			st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
			goto out;
		}
		st = add_report(&d, &items[nitems], rj, jstr(rep, "sha256"),
			base_name(jstr(rep, "path")), inv_iri, err);
		json_decref(rj);
		if (st == CUSTOS_EFORMAT) {
			/* A report verify could not use: no acquisition. */
			json_decref(items[nitems].objects);
			items[nitems].objects = NULL;
			continue;
		}
		if (st != CUSTOS_OK)
			goto out;
		nitems++;
	}
	json_object_foreach(json_object_get(v, "items"), name, facts) {
		item_refs *item = find_item(items, nitems, name);
		const json_t *acq = json_object_get(facts, "acquired");

		if (item == NULL) {
			/* Known only from a log or a bundle. */
			item = &items[nitems++];
			snprintf(item->evidence, sizeof(item->evidence), "%s",
				name);
			mint(item->provenance, "provenance", or_empty(case_no),
				name, NULL);
			set_text(&d, node(&d, item->provenance,
				"case-investigation:ProvenanceRecord"),
				"case-investigation:exhibitNumber", name);
			if ((item->objects = json_array()) == NULL) {
				st = custos__error_set(err, CUSTOS_ENOMEM,
					"out of memory");
				goto out;
			}
		}
		if (json_is_string(json_object_get(acq, "warrant")))
			authorize(&d, inv, "warrant", jstr(acq, "warrant"),
				NULL, name, NULL);
		add_transfers(&d, item, name, facts, case_no);
		add_exports(&d, item, name, facts, json_object_get(v,
			"bundles"));
	}
	json_array_foreach(json_object_get(v, "bundles"), i, rep)
		add_request(&d, inv, json_object_get(rep, "request"));
	add_receipts(&d, v);
	add_verification(&d, v, or_empty(jstr(v, "verdict")));
	gather(&d, inv);
	st = doc_finish(out, &d, err);
out:
	for (i = 0; items != NULL && i < nitems; i++)
		json_decref(items[i].objects);
	free(items);
	json_decref(v);
	doc_free(&d);
	return st;
}

/* ---- writing ---- */

static custos_status write_doc(const char *out_path, char *doc,
		custos_error *err)
{
	custos_status st;
	char *text = NULL;
	int n = asprintf(&text, "%s\n", doc);

	free(doc);
	if (n < 0)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	st = custos__write_file_exclusive(out_path, text, (size_t)n, 0644,
		err);
	free(text);
	return st;
}

custos_status custos_case_uco_write_report(const char *out_path,
		const char *report_path, custos_error *err)
{
	unsigned char *data = NULL;
	char *doc = NULL;
	size_t len = 0;
	custos_status st;

	st = custos__read_file_max(report_path, REPORT_MAX, &data, &len,
		"report", err);
	if (st == CUSTOS_OK)
		st = custos_case_uco_from_report(&doc, (const char *)data, len,
			report_path, err);
	free(data);
	return st == CUSTOS_OK ? write_doc(out_path, doc, err) : st;
}

custos_status custos_case_uco_write_verify(const char *out_path,
		const custos_verify_case *r, custos_error *err)
{
	char *doc = NULL;
	custos_status st = custos_case_uco_from_verify(&doc, r, err);

	return st == CUSTOS_OK ? write_doc(out_path, doc, err) : st;
}
