/* custos: digital evidence acquisition and chain of custody. */
#ifndef CUSTOS_H
#define CUSTOS_H

#include "common.h"
#include "error.h"
#include "version.h"
#include "digest.h"
#include "ranges.h"
#include "source.h"
#include "raw.h"
#include "report.h"
#include "acquire.h"
#include "image.h"
#include "cert.h"
#include "key.h"
#include "check.h"
#include "text.h"
#include "sign.h"
#include "timestamp.h"
#include "merkle.h"
#include "blockmap.h"
#include "disclose.h"
#include "note.h"
#include "custody.h"
#include "custody_export.h"
#include "age.h"
#include "bundle.h"
#include "verify.h"
#include "lang.h"
#include "court.h"
#include "case_uco.h"

#endif
