/* Helpers shared by the custos command-line tools. */
#ifndef CUSTOS_TOOLS_CLI_H
#define CUSTOS_TOOLS_CLI_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include "custos/custos.h"
#include "custos/lang.h"

/* Marks a string for the catalogues (po/) where it is not translated
 * yet: an option's help in a table. */
#define N_(s) s

/* Exit statuses shared by every tool (see custos-acquire(1)). */
enum {
	CLI_EXIT_OK = 0,
	CLI_EXIT_NOT_CLEAN = 1,  /* evidence not clean: check failed, bad sectors */
	CLI_EXIT_USAGE = 2,
	CLI_EXIT_FAILURE = 3,    /* I/O, missing file, no space, interrupted */
};

/* One option: the getopt entry plus its argument name and help text. */
typedef struct cli_option {
	struct option opt;
	const char *arg_name;   /* NULL when it takes no argument */
	const char *help;
} cli_option;

/* Print "usage" and the option table, generated from one table. */
void cli_print_help(FILE *out, const char *usage, const char *summary,
		const cli_option *options, size_t count, const char *epilogue);
/* The same in a language (NULL: English): the fixed words, summary,
 * help texts and epilogue through its catalogue. */
void cli_print_help_lang(FILE *out, const custos_lang *lang,
		const char *usage, const char *summary,
		const cli_option *options, size_t count, const char *epilogue);

/* Build getopt_long's inputs from the table; caller frees *longopts. */
int cli_getopt_tables(const cli_option *options, size_t count,
		struct option **longopts, char *shortopts, size_t shortcap);

void cli_print_version(const char *tool);

/* Parse "4096", "640K", "2M", "1G", "1T" (binary units); 0 on failure. */
int cli_parse_size(const char *text, uint64_t *out);
/* Parse a non-negative integer up to max. */
int cli_parse_uint(const char *text, unsigned long max, unsigned long *out);

/* The one-line "tool: message" diagnostic on stderr, escaped. */
void cli_error(const char *tool, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A usage error: "tool: message" and a pointer to --help, on stderr. */
void cli_usage_error(const char *tool, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Print untrusted text escaped by custos_text_escape (text.h): C0, DEL
 * and bytes that are not UTF-8 as \xNN, C1 and bidi controls as \uXXXX. */
void cli_fputs_safe(const char *s, FILE *out);

/* One command of a tool with several (custos-sign sign, verify ...). */
typedef struct cli_command {
	const char *name;
	int (*run)(int argc, char **argv); /* argv[0] is the command */
} cli_command;

/*
 * Run the command named by argv[1], or answer --help/-h (main_help) and
 * --version/-V.  A missing or unknown command is a usage error naming the
 * commands.  Returns the exit status.
 */
int cli_dispatch(const char *tool, int argc, char **argv,
		const cli_command *commands, size_t count,
		void (*main_help)(void));

/* Map a library status to the tool's exit status. */
int cli_exit_status(custos_status st);

/*
 * CLI_FREE_AT_EXIT: 1 when a tool must free everything before it exits.
 * A tool that holds a very large result (a custody log of 100,000 records)
 * may leave it to the system at exit, which takes it back at once, where
 * free() would walk every object; under AddressSanitizer everything is
 * freed, so that its leak checker can still prove nothing is lost.
 */
#if defined(__SANITIZE_ADDRESS__)
#define CLI_FREE_AT_EXIT 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CLI_FREE_AT_EXIT 1
#endif
#endif
#ifndef CLI_FREE_AT_EXIT
#define CLI_FREE_AT_EXIT 0
#endif

#endif
