/* Status codes and the thread's last detailed error message. */
#ifndef LUCY_STATUS_H
#define LUCY_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum LucyStatus {
  LUCY_OK = 0,
  LUCY_ERR_INVALID_ARGUMENT, /* a parameter is out of range or shapes do not fit */
  LUCY_ERR_OUT_OF_MEMORY,    /* host allocation failed */
  LUCY_ERR_DEVICE_MEMORY,    /* accelerator allocation failed or would not fit */
  LUCY_ERR_IO,               /* open/read/write/rename failed (errno in the message) */
  LUCY_ERR_FORMAT,           /* the file is corrupt, truncated or inconsistent */
  LUCY_ERR_UNSUPPORTED,      /* a valid file or request Lucy does not handle */
  LUCY_ERR_EXISTS,           /* output exists and overwriting was not asked for */
  LUCY_ERR_NUMERIC,          /* NaN/Inf or a zero sum where a finite value is needed */
  LUCY_ERR_FFT,              /* the FFT library failed to plan or execute */
  LUCY_ERR_DEVICE,           /* the accelerator runtime reported an error */
  LUCY_ERR_CANCELLED         /* the progress callback asked to stop */
} LucyStatus;

/* Short stable name of a status, e.g. "LUCY_ERR_FORMAT". */
const char *lucy_status_name(LucyStatus status);

/* The calling thread's last detailed message (what failed, with the numbers). Never NULL;
 * empty when nothing has failed on this thread. Valid until the next failing call. */
const char *lucy_error_message(void);

/* Reports progress of long work: fraction in [0, 1] and a short stage name.
 * Return non-zero to cancel; the operation then returns LUCY_ERR_CANCELLED and leaves its
 * outputs untouched. May be called from a worker thread. */
typedef int (*LucyProgressFn)(void *user, double fraction, const char *stage);

#ifdef __cplusplus
}
#endif
#endif
