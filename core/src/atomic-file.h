/* Writing a file atomically: a temporary file in the destination folder, renamed into place
 * only when complete, so a failure never leaves a partial file or harms an existing one. */
#ifndef LUCY_ATOMIC_FILE_H
#define LUCY_ATOMIC_FILE_H

#include "lucy/status.h"

/* Internals shared across core files: never exported from liblucy. */
#pragma GCC visibility push(hidden)

typedef struct LucyAtomicFile {
  char *path;     /* the destination */
  char *tmp_path; /* the temporary file, same folder: "<dir>/.<name>.XXXXXX" */
  int fd;         /* open for writing on tmp_path; the writer may close it itself (set -1) */
  int overwrite;
  int unnamed;    /* fd is an O_TMPFILE file (tmp_path is only a name for messages and the
                     link made at commit): a killed process leaves nothing behind */
} LucyAtomicFile;

/* Checks that the folder exists and is writable, that path does not exist unless overwrite
 * (LUCY_ERR_EXISTS, saying to use --force) and is not a device, FIFO or socket, then creates
 * the temporary file: unnamed (O_TMPFILE) where the file system allows, else a hidden
 * mkstemp file. Errors name the path and errno's text. */
LucyStatus lucy__atomic_begin(LucyAtomicFile *af, const char *path, int overwrite);
/* Flushes, closes and puts the temporary in place (without overwrite, never replaces a file
 * that appeared meanwhile). On failure the temporary is removed. Frees af's strings. */
LucyStatus lucy__atomic_commit(LucyAtomicFile *af);
/* Removes the temporary and frees af's strings. Safe after a failed begin. */
void lucy__atomic_abort(LucyAtomicFile *af);

#pragma GCC visibility pop

#endif
