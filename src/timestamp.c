/* RFC 3161 time stamps: a TSA client over HTTP(S), and token checks. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "cert_private.h"
#include "error_private.h"
#include "timestamp_private.h"
#include "util_private.h"

/* The largest TSA answer accepted: 1 MiB. */
#define TSA_REPLY_MAX (1u << 20)

struct custos_timestamp {
	const char *kind;
	char *path;
	custos_sign_check check;
	char *message;
	char time[CUSTOS__RFC3339_MAX];
	time_t gen_time;
	int has_time;
	char *tsa_name;
	custos_cert *tsa_cert;
	char *serial;
	char *policy;
	const char *digest;
};

void custos_tsa_options_init(custos_tsa_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->version = CUSTOS_TSA_OPTIONS_VERSION;
	opts->timeout = CUSTOS_TSA_DEFAULT_TIMEOUT;
	opts->digest = CUSTOS_DIGEST_SHA256;
}

/* ---- HTTP ---- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result;

static void curl_init(void)
{
	curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

typedef struct reply_buf {
	unsigned char *data;
	size_t len;
	int too_big;
} reply_buf;

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ctx)
{
	reply_buf *r = ctx;
	size_t n = size * nmemb;
	unsigned char *grown;

	if (size != 0 && n / size != nmemb)
		return 0;
	if (n > TSA_REPLY_MAX - r->len) {
		r->too_big = 1;
		return 0;
	}
	grown = realloc(r->data, r->len + n + 1);
	if (grown == NULL)
		return 0;
	r->data = grown;
	memcpy(r->data + r->len, ptr, n);
	r->len += n;
	return n;
}

static custos_status check_url(const char *url, custos_error *err)
{
	if (url == NULL || *url == '\0')
		return custos__error_set(err, CUSTOS_EINVAL, "no TSA URL given");
	if (strncasecmp(url, "http://", 7) != 0 &&
	    strncasecmp(url, "https://", 8) != 0)
		return custos__error_set(err, CUSTOS_EINVAL,
			"TSA URL must start with http:// or https://: %s", url);
	for (const unsigned char *p = (const unsigned char *)url; *p; p++)
		if (*p <= 0x20 || *p == 0x7f)
			return custos__error_set(err, CUSTOS_EINVAL,
				"TSA URL holds a space or control character");
	return CUSTOS_OK;
}

static custos_status http_post(reply_buf *reply, const char *url,
		unsigned int timeout, const unsigned char *body, size_t len,
		custos_error *err)
{
	char curl_err[CURL_ERROR_SIZE] = "";
	struct curl_slist *headers = NULL;
	custos_status st = CUSTOS_OK;
	long code = 0;
	CURLcode rc;
	CURL *curl;

	pthread_once(&curl_once, curl_init);
	if (curl_init_result != CURLE_OK)
		return custos__error_set(err, CUSTOS_EINTERNAL,
			"cannot start libcurl: %s",
			curl_easy_strerror(curl_init_result));
	curl = curl_easy_init();
	if (curl == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM,
			"cannot start libcurl");
	headers = curl_slist_append(headers,
		"Content-Type: application/timestamp-query");
	headers = curl_slist_append(headers,
		"Accept: application/timestamp-reply");
	if (headers == NULL) {
		curl_easy_cleanup(curl);
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	}
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 3L);
	curl_easy_setopt(curl, CURLOPT_POSTREDIR, (long)CURL_REDIR_POST_ALL);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, (long)timeout);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)timeout);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)len);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "custos/" CUSTOS_VERSION);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, reply);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_err);
	rc = curl_easy_perform(curl);
	if (rc == CURLE_OPERATION_TIMEDOUT) {
		st = custos__error_set(err, CUSTOS_EIO,
			"the TSA at %s did not answer within %u s", url,
			timeout);
	} else if (rc == CURLE_WRITE_ERROR && reply->too_big) {
		st = custos__error_set(err, CUSTOS_EFORMAT,
			"the TSA at %s sent more than %u bytes", url,
			TSA_REPLY_MAX);
	} else if (rc != CURLE_OK) {
		st = custos__error_set(err, CUSTOS_EIO,
			"cannot reach the TSA at %s: %s", url,
			curl_err[0] != '\0' ? curl_err : curl_easy_strerror(rc));
	} else {
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
		if (code != 200)
			st = custos__error_set(err, CUSTOS_EIO,
				"the TSA at %s refused the request: HTTP %ld",
				url, code);
	}
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	return st;
}

/* ---- the request and its answer ---- */

static ASN1_INTEGER *new_nonce(void)
{
	unsigned char raw[8];
	ASN1_INTEGER *nonce = NULL;
	BIGNUM *bn;

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return NULL;
	raw[0] &= 0x7f;
	raw[0] |= 0x01; /* never zero, never negative */
	bn = BN_bin2bn(raw, sizeof(raw), NULL);
	if (bn != NULL)
		nonce = BN_to_ASN1_INTEGER(bn, NULL);
	BN_free(bn);
	return nonce;
}

static custos_status build_query(unsigned char **der, int *der_len,
		ASN1_INTEGER **nonce_out, const EVP_MD *md,
		const unsigned char *digest, size_t digest_len,
		custos_error *err)
{
	TS_REQ *req = TS_REQ_new();
	TS_MSG_IMPRINT *mi = TS_MSG_IMPRINT_new();
	X509_ALGOR *alg = X509_ALGOR_new();
	ASN1_INTEGER *nonce = new_nonce();
	custos_status st = CUSTOS_OK;

	*der = NULL;
	*nonce_out = NULL;
	if (req == NULL || mi == NULL || alg == NULL || nonce == NULL ||
	    !X509_ALGOR_set0(alg, OBJ_nid2obj(EVP_MD_get_type(md)),
		    V_ASN1_NULL, NULL) ||
	    !TS_MSG_IMPRINT_set_algo(mi, alg) ||
	    !TS_MSG_IMPRINT_set_msg(mi, (unsigned char *)digest,
		    (int)digest_len) ||
	    !TS_REQ_set_version(req, 1) ||
	    !TS_REQ_set_msg_imprint(req, mi) ||
	    !TS_REQ_set_nonce(req, nonce) ||
	    !TS_REQ_set_cert_req(req, 1) ||
	    (*der_len = i2d_TS_REQ(req, der)) <= 0) {
		st = custos__error_openssl(err, "cannot build the TSA query");
	} else {
		*nonce_out = nonce;
		nonce = NULL;
	}
	ASN1_INTEGER_free(nonce);
	X509_ALGOR_free(alg);
	TS_MSG_IMPRINT_free(mi);
	TS_REQ_free(req);
	return st;
}

static void status_text(char *out, size_t cap, TS_STATUS_INFO *si)
{
	static const struct {
		int bit;
		const char *name;
	} fails[] = {
		{TS_INFO_BAD_ALG, "bad algorithm"},
		{TS_INFO_BAD_REQUEST, "bad request"},
		{TS_INFO_BAD_DATA_FORMAT, "bad data format"},
		{TS_INFO_TIME_NOT_AVAILABLE, "time not available"},
		{TS_INFO_UNACCEPTED_POLICY, "unaccepted policy"},
		{TS_INFO_UNACCEPTED_EXTENSION, "unaccepted extension"},
		{TS_INFO_ADD_INFO_NOT_AVAILABLE, "additional information not available"},
		{TS_INFO_SYSTEM_FAILURE, "system failure"},
	};
	static const char *const names[] = {"granted", "granted with mods",
		"rejection", "waiting", "revocation warning",
		"revocation notification"};
	long status = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(si));
	const ASN1_BIT_STRING *fi = TS_STATUS_INFO_get0_failure_info(si);
	const STACK_OF(ASN1_UTF8STRING) *text = TS_STATUS_INFO_get0_text(si);
	size_t used;
	int n;

	n = snprintf(out, cap, "status %s",
		status >= 0 && status <= 5 ? names[status] : "unknown");
	used = n > 0 && (size_t)n < cap ? (size_t)n : cap - 1;
	for (size_t i = 0; fi != NULL && i < sizeof(fails) / sizeof(fails[0]);
			i++) {
		if (!ASN1_BIT_STRING_get_bit(fi, fails[i].bit))
			continue;
		n = snprintf(out + used, cap - used, ", %s", fails[i].name);
		used = n > 0 && (size_t)n < cap - used ? used + (size_t)n
						       : cap - 1;
	}
	for (int i = 0; text != NULL && i < sk_ASN1_UTF8STRING_num(text); i++) {
		const ASN1_UTF8STRING *s = sk_ASN1_UTF8STRING_value(text, i);

		n = snprintf(out + used, cap - used, ", \"%.*s\"",
			ASN1_STRING_length(s) > 200 ? 200 : ASN1_STRING_length(s),
			(const char *)ASN1_STRING_get0_data(s));
		used = n > 0 && (size_t)n < cap - used ? used + (size_t)n
						       : cap - 1;
	}
}

custos_status custos__timestamp_fetch(TS_RESP **out, const char *url,
		unsigned int timeout, const EVP_MD *md,
		const unsigned char *digest, size_t digest_len,
		custos_error *err)
{
	reply_buf reply = {0};
	unsigned char *query = NULL;
	int query_len = 0;
	ASN1_INTEGER *nonce = NULL;
	const unsigned char *p;
	TS_RESP *resp = NULL;
	TS_TST_INFO *info;
	TS_MSG_IMPRINT *mi;
	custos_status st;
	long status;

	*out = NULL;
	if ((st = check_url(url, err)) != CUSTOS_OK)
		return st;
	if (timeout == 0)
		timeout = CUSTOS_TSA_DEFAULT_TIMEOUT;
	st = build_query(&query, &query_len, &nonce, md, digest, digest_len,
		err);
	if (st != CUSTOS_OK)
		return st;
	st = http_post(&reply, url, timeout, query, (size_t)query_len, err);
	OPENSSL_free(query);
	if (st != CUSTOS_OK)
		goto done;
	p = reply.data;
	resp = reply.data != NULL ? d2i_TS_RESP(NULL, &p, (long)reply.len)
				  : NULL;
	if (resp == NULL || p != reply.data + reply.len) {
		ERR_clear_error();
		st = custos__error_set(err, CUSTOS_EFORMAT,
			"the TSA at %s did not answer with an RFC 3161 "
			"time stamp (%zu bytes of something else)", url,
			reply.len);
		goto done;
	}
	status = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(
		TS_RESP_get_status_info(resp)));
	if (status != TS_STATUS_GRANTED &&
	    status != TS_STATUS_GRANTED_WITH_MODS) {
		char text[512];

		status_text(text, sizeof(text), TS_RESP_get_status_info(resp));
		st = custos__error_set(err, CUSTOS_EIO,
			"the TSA at %s refused the request: %s", url, text);
		goto done;
	}
	info = TS_RESP_get_tst_info(resp);
	if (info == NULL || TS_RESP_get_token(resp) == NULL) {
		st = custos__error_set(err, CUSTOS_EFORMAT,
			"the TSA at %s granted but sent no token", url);
		goto done;
	}
	if (TS_TST_INFO_get_nonce(info) == NULL ||
	    ASN1_INTEGER_cmp(TS_TST_INFO_get_nonce(info), nonce) != 0) {
		st = custos__error_set(err, CUSTOS_EFORMAT,
			"the TSA at %s answered with a token that does not "
			"carry our nonce (a replayed or foreign answer)", url);
		goto done;
	}
	mi = TS_TST_INFO_get_msg_imprint(info);
	if (OBJ_obj2nid(TS_MSG_IMPRINT_get_algo(mi)->algorithm) !=
		    EVP_MD_get_type(md) ||
	    ASN1_STRING_length(TS_MSG_IMPRINT_get_msg(mi)) !=
		    (int)digest_len ||
	    memcmp(ASN1_STRING_get0_data(TS_MSG_IMPRINT_get_msg(mi)), digest,
		    digest_len) != 0) {
		st = custos__error_set(err, CUSTOS_EFORMAT,
			"the TSA at %s stamped other data than we sent", url);
		goto done;
	}
	*out = resp;
	resp = NULL;
done:
	TS_RESP_free(resp);
	ASN1_INTEGER_free(nonce);
	free(reply.data);
	return st;
}

/* ---- a whole file ---- */

static custos_status digest_fd(int fd, const EVP_MD *md, unsigned char *out,
		unsigned int *out_len, const char *path, custos_error *err)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char *buf = malloc(1u << 16);
	custos_status st = CUSTOS_OK;

	if (ctx == NULL || buf == NULL || EVP_DigestInit_ex(ctx, md, NULL) != 1) {
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		goto done;
	}
	for (;;) {
		ssize_t n = read(fd, buf, 1u << 16);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			st = custos__error_errno(err, errno, "cannot read %s",
				path);
			goto done;
		}
		if (n == 0)
			break;
		EVP_DigestUpdate(ctx, buf, (size_t)n);
	}
	if (EVP_DigestFinal_ex(ctx, out, out_len) != 1)
		st = custos__error_openssl(err, "cannot hash");
done:
	free(buf);
	EVP_MD_CTX_free(ctx);
	return st;
}

static custos_status digest_path(const char *path, const EVP_MD *md,
		unsigned char *out, unsigned int *out_len, custos_error *err)
{
	custos_status st;
	int fd;

	if ((st = custos__open_regular(&fd, path, "file", err)) != CUSTOS_OK)
		return st;
	st = digest_fd(fd, md, out, out_len, path, err);
	close(fd);
	return st;
}

const char *custos__md_name(const EVP_MD *md)
{
	switch (EVP_MD_get_type(md)) {
	case NID_md5: return "md5";
	case NID_sha1: return "sha1";
	case NID_sha256: return "sha256";
	case NID_sha384: return "sha384";
	case NID_sha512: return "sha512";
	default: return "other";
	}
}

static const EVP_MD *tsa_md(custos_digest_alg alg)
{
	switch (alg) {
	case CUSTOS_DIGEST_SHA256: return EVP_sha256();
	case CUSTOS_DIGEST_SHA512: return EVP_sha512();
	default: return NULL;
	}
}

custos_status custos_timestamp_file_to(const char *path, const char *tsr_path,
		const custos_tsa_options *opts, custos_error *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	unsigned char *der = NULL;
	TS_RESP *resp = NULL;
	const EVP_MD *alg;
	custos_status st;
	int der_len;

	if (path == NULL || tsr_path == NULL || opts == NULL)
		return custos__error_set(err, CUSTOS_EINVAL,
			"custos_timestamp_file: NULL argument");
	if (opts->version != CUSTOS_TSA_OPTIONS_VERSION)
		return custos__error_set(err, CUSTOS_EINVAL,
			"unknown TSA options version %u", opts->version);
	alg = tsa_md(opts->digest);
	if (alg == NULL)
		return custos__error_set(err, CUSTOS_EINVAL,
			"time stamps use sha256 or sha512");
	if ((st = check_url(opts->url, err)) != CUSTOS_OK)
		return st;
	if (custos__path_exists(tsr_path))
		return custos__error_set(err, CUSTOS_EEXIST,
			"%s already exists; not overwritten", tsr_path);
	st = digest_path(path, alg, md, &md_len, err);
	if (st == CUSTOS_OK)
		st = custos__timestamp_fetch(&resp, opts->url, opts->timeout,
			alg, md, md_len, err);
	if (st == CUSTOS_OK) {
		der_len = i2d_TS_RESP(resp, &der);
		if (der_len <= 0)
			st = custos__error_openssl(err,
				"cannot encode the time stamp");
		else
			st = custos__write_file_atomic(tsr_path, der,
				(size_t)der_len, err);
	}
	OPENSSL_free(der);
	TS_RESP_free(resp);
	return st;
}

custos_status custos_timestamp_file(const char *path,
		const custos_tsa_options *opts, custos_error *err)
{
	char *tsr;
	custos_status st;

	if (path == NULL)
		return custos__error_set(err, CUSTOS_EINVAL,
			"custos_timestamp_file: NULL argument");
	tsr = custos__aprintf("%s.tsr", path);
	if (tsr == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	st = custos_timestamp_file_to(path, tsr, opts, err);
	free(tsr);
	return st;
}

/* ---- checking a token ---- */

custos_timestamp *custos__timestamp_new(const char *kind, const char *path)
{
	custos_timestamp *ts = calloc(1, sizeof(*ts));

	if (ts == NULL)
		return NULL;
	ts->kind = kind;
	ts->path = custos__strdup(path);
	if (path != NULL && ts->path == NULL) {
		free(ts);
		return NULL;
	}
	ts->check = CUSTOS_SIGN_OK;
	return ts;
}

void custos__timestamp_fail(custos_timestamp *ts, custos_sign_check check,
		const char *fmt, ...)
{
	va_list ap;

	free(ts->message);
	ts->check = check;
	va_start(ap, fmt);
	if (vasprintf(&ts->message, fmt, ap) < 0)
		ts->message = NULL;
	va_end(ap);
}

/* The first OpenSSL error with its data, then the queue is cleared. */
static void openssl_reason(char *out, size_t cap, int *reason)
{
	const char *data = NULL;
	int flags = 0;
	unsigned long code = ERR_get_error_all(NULL, NULL, NULL, &data, &flags);

	*reason = ERR_GET_REASON(code);
	if (code == 0)
		snprintf(out, cap, "no detail");
	else if (data != NULL && (flags & ERR_TXT_STRING) && *data != '\0')
		snprintf(out, cap, "%s (%s)", ERR_reason_error_string(code)
			? ERR_reason_error_string(code) : "error", data);
	else
		ERR_error_string_n(code, out, cap);
	ERR_clear_error();
}

static char *general_name_text(const GENERAL_NAME *gn)
{
	if (gn == NULL)
		return NULL;
	if (gn->type == GEN_DIRNAME)
		return custos__name_text(gn->d.directoryName);
	if (gn->type == GEN_URI || gn->type == GEN_DNS || gn->type == GEN_EMAIL)
		return strndup((const char *)ASN1_STRING_get0_data(gn->d.ia5),
			(size_t)ASN1_STRING_length(gn->d.ia5));
	return NULL;
}

custos_sign_check custos__timestamp_check_token(custos_timestamp *ts,
		PKCS7 *token, const unsigned char *data, size_t len,
		const char *data_path, X509_STORE *store)
{
	TS_TST_INFO *info = PKCS7_to_TS_TST_INFO(token);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	const ASN1_OCTET_STRING *want;
	TS_MSG_IMPRINT *mi;
	const EVP_MD *alg;
	X509 *signer = NULL;
	BIGNUM *bn;
	char buf[512];
	int reason;

	if (info == NULL) {
		ERR_clear_error();
		custos__timestamp_fail(ts, CUSTOS_SIGN_TIMESTAMP_INVALID,
			"not an RFC 3161 time-stamp token");
		return ts->check;
	}
	/* What the token says, whatever the checks find. */
	if (custos__asn1_time_rfc3339(ts->time, TS_TST_INFO_get_time(info))) {
		struct tm tm;

		memset(&tm, 0, sizeof(tm));
		if (ASN1_TIME_to_tm(TS_TST_INFO_get_time(info), &tm) == 1) {
			ts->gen_time = timegm(&tm);
			ts->has_time = 1;
		}
	}
	bn = ASN1_INTEGER_to_BN(TS_TST_INFO_get_serial(info), NULL);
	if (bn != NULL) {
		char *h = BN_bn2hex(bn);

		ts->serial = h != NULL ? strdup(h) : NULL;
		OPENSSL_free(h);
		BN_free(bn);
	}
	if (OBJ_obj2txt(buf, sizeof(buf), TS_TST_INFO_get_policy_id(info), 1)
			> 0)
		ts->policy = strdup(buf);
	ts->tsa_name = general_name_text(TS_TST_INFO_get_tsa(info));

	/* Over the right data? */
	mi = TS_TST_INFO_get_msg_imprint(info);
	alg = EVP_get_digestbyobj(TS_MSG_IMPRINT_get_algo(mi)->algorithm);
	want = TS_MSG_IMPRINT_get_msg(mi);
	if (alg == NULL) {
		custos__timestamp_fail(ts, CUSTOS_SIGN_TIMESTAMP_INVALID,
			"the token uses an unknown digest");
		goto done;
	}
	ts->digest = custos__md_name(alg);
	if (data != NULL) {
		if (EVP_Digest(data, len, md, &md_len, alg, NULL) != 1)
			md_len = 0;
	} else {
		custos_error e;

		if (digest_path(data_path, alg, md, &md_len, &e) != CUSTOS_OK) {
			custos__timestamp_fail(ts, CUSTOS_SIGN_TIMESTAMP_INVALID,
				"%s", e.message);
			goto done;
		}
	}
	if (md_len == 0 || ASN1_STRING_length(want) != (int)md_len ||
	    memcmp(ASN1_STRING_get0_data(want), md, md_len) != 0) {
		custos__timestamp_fail(ts, CUSTOS_SIGN_TIMESTAMP_MISMATCH,
			"the time stamp is over other data than %s",
			data != NULL ? "this signature" : "this file");
		goto done;
	}
	/* Signed by a TSA we trust, with a valid ESS signing certificate? */
	ERR_clear_error();
	if (TS_RESP_verify_signature(token, NULL, store, &signer) != 1) {
		openssl_reason(buf, sizeof(buf), &reason);
		custos__timestamp_fail(ts, reason ==
			TS_R_CERTIFICATE_VERIFY_ERROR
			? CUSTOS_SIGN_TIMESTAMP_UNTRUSTED
			: CUSTOS_SIGN_TIMESTAMP_INVALID,
			"the time stamp's signature does not verify: %s", buf);
	}
	if (signer == NULL) {
		/* Still name the TSA from the certificates in the token. */
		STACK_OF(X509) *certs = token->d.sign != NULL
			? token->d.sign->cert : NULL;

		if (certs != NULL && sk_X509_num(certs) > 0)
			signer = sk_X509_value(certs, 0);
		if (signer != NULL)
			X509_up_ref(signer);
	}
	if (signer != NULL) {
		custos_error e;

		if (custos__cert_from_x509(&ts->tsa_cert, signer, &e) ==
				CUSTOS_OK &&
		    ts->tsa_name == NULL)
			ts->tsa_name = strdup(custos_cert_subject(ts->tsa_cert));
		X509_free(signer);
	}
done:
	TS_TST_INFO_free(info);
	ERR_clear_error();
	return ts->check;
}

int custos__timestamp_gen_time(const custos_timestamp *ts, time_t *out)
{
	if (ts->check != CUSTOS_SIGN_OK || !ts->has_time)
		return 0;
	*out = ts->gen_time;
	return 1;
}

json_t *custos__timestamp_json(const custos_timestamp *ts)
{
	json_t *j = json_object();

	if (j == NULL)
		return NULL;
	json_object_set_new(j, "kind", json_string(ts->kind));
	if (ts->path != NULL)
		json_object_set_new(j, "path", json_string(ts->path));
	json_object_set_new(j, "result", json_string(
		custos_sign_check_name(ts->check)));
	if (ts->message != NULL)
		json_object_set_new(j, "reason", json_string(ts->message));
	json_object_set_new(j, "time", ts->time[0] != '\0'
		? json_string(ts->time) : json_null());
	json_object_set_new(j, "tsa", ts->tsa_name != NULL
		? json_string(ts->tsa_name) : json_null());
	json_object_set_new(j, "tsa_certificate", ts->tsa_cert != NULL
		? custos__cert_json(ts->tsa_cert) : json_null());
	json_object_set_new(j, "serial", ts->serial != NULL
		? json_string(ts->serial) : json_null());
	json_object_set_new(j, "policy", ts->policy != NULL
		? json_string(ts->policy) : json_null());
	json_object_set_new(j, "digest", ts->digest != NULL
		? json_string(ts->digest) : json_null());
	return j;
}

void custos__timestamp_free(custos_timestamp *ts)
{
	if (ts == NULL)
		return;
	free(ts->path);
	free(ts->message);
	free(ts->tsa_name);
	custos_cert_free(ts->tsa_cert);
	free(ts->serial);
	free(ts->policy);
	free(ts);
}

const char *custos_timestamp_kind(const custos_timestamp *ts) { return ts->kind; }
const char *custos_timestamp_path(const custos_timestamp *ts) { return ts->path; }
custos_sign_check custos_timestamp_check(const custos_timestamp *ts) { return ts->check; }
const char *custos_timestamp_message(const custos_timestamp *ts)
{
	return ts->message != NULL ? ts->message
		: ts->check == CUSTOS_SIGN_OK ? "verified" : "failed";
}
const char *custos_timestamp_time(const custos_timestamp *ts)
{
	return ts->time[0] != '\0' ? ts->time : NULL;
}
const char *custos_timestamp_tsa_name(const custos_timestamp *ts) { return ts->tsa_name; }
const custos_cert *custos_timestamp_tsa_cert(const custos_timestamp *ts) { return ts->tsa_cert; }
const char *custos_timestamp_serial(const custos_timestamp *ts) { return ts->serial; }
const char *custos_timestamp_policy(const custos_timestamp *ts) { return ts->policy; }
const char *custos_timestamp_digest(const custos_timestamp *ts) { return ts->digest; }
