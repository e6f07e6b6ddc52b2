/* Helpers shared by the custos command-line tools. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void cli_print_help(FILE *out, const char *usage, const char *summary,
		const cli_option *options, size_t count, const char *epilogue)
{
	cli_print_help_lang(out, NULL, usage, summary, options, count,
		epilogue);
}

void cli_print_help_lang(FILE *out, const custos_lang *lang,
		const char *usage, const char *summary,
		const cli_option *options, size_t count, const char *epilogue)
{
	fprintf(out, "%s %s\n%s\n\n%s\n", custos_lang_text(lang, "Usage:"),
		usage, custos_lang_text(lang, summary),
		custos_lang_text(lang, "Options:"));
	for (size_t i = 0; i < count; i++) {
		const cli_option *o = &options[i];
		char left[64];
		int n;

		if (o->opt.val < 256 && o->opt.val > ' ')
			n = snprintf(left, sizeof(left), "-%c, --%s", o->opt.val,
				o->opt.name);
		else
			n = snprintf(left, sizeof(left), "    --%s", o->opt.name);
		if (o->arg_name != NULL && n > 0 && (size_t)n < sizeof(left))
			snprintf(left + n, sizeof(left) - (size_t)n,
				o->opt.has_arg == optional_argument ? "[=%s]"
								    : " %s",
				o->arg_name);
		fprintf(out, "  %-28s %s\n", left, custos_lang_text(lang,
			o->help));
	}
	if (epilogue != NULL)
		fprintf(out, "\n%s", custos_lang_text(lang, epilogue));
}

int cli_getopt_tables(const cli_option *options, size_t count,
		struct option **longopts, char *shortopts, size_t shortcap)
{
	size_t s = 0;

	*longopts = calloc(count + 1, sizeof(**longopts));
	if (*longopts == NULL)
		return -1;
	if (shortcap > 0)
		shortopts[s++] = ':'; /* report a missing argument as ':' */
	for (size_t i = 0; i < count; i++) {
		(*longopts)[i] = options[i].opt;
		if (options[i].opt.val < 256 && options[i].opt.val > ' ') {
			if (s + 3 >= shortcap)
				return -1;
			shortopts[s++] = (char)options[i].opt.val;
			if (options[i].opt.has_arg == required_argument)
				shortopts[s++] = ':';
		}
	}
	shortopts[s] = '\0';
	return 0;
}

void cli_print_version(const char *tool)
{
	printf("%s %s\n", tool, custos_version());
	printf("libcustos %s\n", custos_version());
	printf("libewf %s\n", custos_version_libewf());
	printf("OpenSSL %s\n", custos_version_openssl());
	printf("%s\n", custos_version_libarchive());
	printf("jansson %s\n", custos_version_jansson());
}

int cli_parse_uint(const char *text, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (text == NULL || *text < '0' || *text > '9')
		return 0;
	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return 0;
	*out = v;
	return 1;
}

int cli_parse_size(const char *text, uint64_t *out)
{
	unsigned long long v, mult = 1;
	char *end;

	if (text == NULL || *text < '0' || *text > '9')
		return 0;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno != 0)
		return 0;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': mult = 1ull << 10; end++; break;
	case 'm': case 'M': mult = 1ull << 20; end++; break;
	case 'g': case 'G': mult = 1ull << 30; end++; break;
	case 't': case 'T': mult = 1ull << 40; end++; break;
	default: return 0;
	}
	/* Accept "1G", "1GiB" and "1GB" alike: all mean binary units here. */
	if (mult > 1 && (*end == 'i' || *end == 'I'))
		end++;
	if (mult > 1 && (*end == 'b' || *end == 'B'))
		end++;
	if (*end != '\0' || v == 0 || v > UINT64_MAX / mult)
		return 0;
	*out = v * mult;
	return 1;
}

void cli_fputs_safe(const char *s, FILE *out)
{
	/* The library's escaping, a piece at a time: it never cuts a
	 * character, so the pieces join into the same text. */
	char buf[4096];
	size_t len = s != NULL ? strlen(s) : 0;

	while (len > 0) {
		size_t used = custos_text_escape(buf, sizeof(buf), s, len);

		fputs(buf, out);
		if (used == 0)
			break;
		s += used;
		len -= used;
	}
}

void cli_error(const char *tool, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: ", tool);
	cli_fputs_safe(msg, stderr);
	fputc('\n', stderr);
}

void cli_usage_error(const char *tool, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cli_error(tool, "%s", msg);
	fprintf(stderr, "Try '%s --help'.\n", tool);
}

int cli_dispatch(const char *tool, int argc, char **argv,
		const cli_command *commands, size_t count,
		void (*main_help)(void))
{
	char names[256] = "";
	size_t used = 0;

	for (size_t i = 0; i < count && used < sizeof(names); i++)
		used += (size_t)snprintf(names + used, sizeof(names) - used,
			"%s%s", i ? ", " : "", commands[i].name);
	if (argc < 2) {
		cli_usage_error(tool, "no command given (%s)", names);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		main_help();
		return CLI_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		cli_print_version(tool);
		return CLI_EXIT_OK;
	}
	for (size_t i = 0; i < count; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	cli_usage_error(tool, "unknown command '%s' (%s)", argv[1], names);
	return CLI_EXIT_USAGE;
}

int cli_exit_status(custos_status st)
{
	switch (st) {
	case CUSTOS_OK:
		return CLI_EXIT_OK;
	case CUSTOS_EMISMATCH:
		return CLI_EXIT_NOT_CLEAN;
	case CUSTOS_EINVAL:
		return CLI_EXIT_USAGE;
	default:
		return CLI_EXIT_FAILURE;
	}
}
