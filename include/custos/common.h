/* custos: shared definitions for every public header. */
#ifndef CUSTOS_COMMON_H
#define CUSTOS_COMMON_H

#if defined(__GNUC__)
#define CUSTOS_EXTERN __attribute__((visibility("default")))
#else
#define CUSTOS_EXTERN
#endif

#endif
