#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomic-file.h"
#include "status-private.h"

static void atomic_clear(LucyAtomicFile *af) {
  free(af->path);
  free(af->tmp_path);
  af->path = af->tmp_path = NULL;
  af->fd = -1;
  af->unnamed = 0;
}

/* An unnamed file in dir (O_TMPFILE), linked into the folder only at commit, through
 * /proc/self/fd; -1 where the kernel, the file system or a missing /proc does not allow it. */
static int open_unnamed(const char *dir) {
#ifdef O_TMPFILE
  if (access("/proc/self/fd", X_OK) != 0) return -1;
  mode_t mask = umask(0);
  umask(mask);
  return open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0666 & ~mask);
#else
  (void)dir;
  return -1;
#endif
}

/* The folder part of path ("." when there is none). Caller frees. */
static char *folder_of(const char *path) {
  char *copy = strdup(path);
  if (!copy) return NULL;
  char *dir = strdup(dirname(copy));
  free(copy);
  return dir;
}

static LucyStatus check_destination(const char *path, int overwrite) {
  struct stat st;
  if (!path || !*path) return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "no output path given");
  char *dir = folder_of(path);
  if (!dir) return lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "out of memory");
  LucyStatus status = LUCY_OK;
  if (stat(dir, &st) != 0)
    status = lucy__fail(LUCY_ERR_IO, "cannot write %s: folder %s: %s", path, dir,
                        strerror(errno));
  else if (!S_ISDIR(st.st_mode))
    status = lucy__fail(LUCY_ERR_IO, "cannot write %s: %s is not a folder", path, dir);
  else if (access(dir, W_OK) != 0)
    status = lucy__fail(LUCY_ERR_IO, "cannot write %s: folder %s is not writable: %s", path,
                        dir, strerror(errno));
  else if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
    status = lucy__fail(LUCY_ERR_IO, "cannot write %s: it is a folder", path);
  /* The rename would put a regular file in place of a device node, FIFO or socket (as root,
   * /dev/null itself): refuse those, whatever overwrite says. */
  else if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
    status = lucy__fail(LUCY_ERR_IO,
                        "cannot write %s: it is not a regular file (a device, FIFO or socket); "
                        "outputs are written to a temporary file renamed into place",
                        path);
  else if (!overwrite && lstat(path, &st) == 0)
    status = lucy__fail(LUCY_ERR_EXISTS, "%s already exists (use --force to replace it)", path);
  free(dir);
  return status;
}

LucyStatus lucy__atomic_begin(LucyAtomicFile *af, const char *path, int overwrite) {
  af->path = af->tmp_path = NULL;
  af->fd = -1;
  af->overwrite = overwrite;
  af->unnamed = 0;
  LucyStatus status = check_destination(path, overwrite);
  if (status) return status;
  char *dir = folder_of(path);
  char *copy = strdup(path);
  const char *name = copy ? basename(copy) : NULL;
  size_t len = dir && name ? strlen(dir) + strlen(name) + 16 : 0;
  af->path = strdup(path);
  af->tmp_path = len ? malloc(len) : NULL;
  if (!af->path || !af->tmp_path) {
    free(dir);
    free(copy);
    atomic_clear(af);
    return lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "out of memory");
  }
  snprintf(af->tmp_path, len, "%s/.%s.XXXXXX", dir, name);
  af->fd = open_unnamed(dir);
  free(dir);
  free(copy);
  if (af->fd >= 0) {
    af->unnamed = 1;
    return LUCY_OK;
  }
  af->fd = mkstemp(af->tmp_path);
  if (af->fd < 0) {
    status = lucy__fail(LUCY_ERR_IO, "cannot create a temporary file beside %s: %s", path,
                        strerror(errno));
    atomic_clear(af);
    return status;
  }
  /* mkstemp makes 0600; give the final file the usual permissions. */
  mode_t mask = umask(0);
  umask(mask);
  (void)fchmod(af->fd, 0666 & ~mask); /* on failure the file merely stays private */
  return LUCY_OK;
}

/* Renames the temporary into place but never replaces a file that appeared since begin:
 * renameat2(RENAME_NOREPLACE) where the file system supports it, else link + unlink. */
static LucyStatus place_without_replacing(LucyAtomicFile *af) {
  if (renameat2(AT_FDCWD, af->tmp_path, AT_FDCWD, af->path, RENAME_NOREPLACE) == 0)
    return LUCY_OK;
  if (errno == EINVAL || errno == ENOSYS) {
    if (link(af->tmp_path, af->path) == 0) {
      unlink(af->tmp_path);
      return LUCY_OK;
    }
  }
  if (errno == EEXIST)
    return lucy__fail(LUCY_ERR_EXISTS, "%s already exists (use --force to replace it)",
                      af->path);
  return lucy__fail(LUCY_ERR_IO, "cannot create %s: %s", af->path, strerror(errno));
}

/* Gives the unnamed file its name. Without overwrite, linkat itself refuses an existing path;
 * with it, the file is linked under a fresh hidden name and renamed over the destination. */
static LucyStatus link_unnamed(LucyAtomicFile *af) {
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", af->fd);
  if (!af->overwrite) {
    if (linkat(AT_FDCWD, proc, AT_FDCWD, af->path, AT_SYMLINK_FOLLOW) == 0) return LUCY_OK;
    if (errno == EEXIST)
      return lucy__fail(LUCY_ERR_EXISTS, "%s already exists (use --force to replace it)",
                        af->path);
    return lucy__fail(LUCY_ERR_IO, "cannot create %s: %s", af->path, strerror(errno));
  }
  const size_t len = strlen(af->tmp_path);
  unsigned seed = (unsigned)getpid() * 2654435761u ^ (unsigned)time(NULL);
  for (int tries = 0; tries < 100; tries++) {
    seed = seed * 1103515245u + 12345u;
    snprintf(af->tmp_path + len - 6, 7, "%06x", (seed >> 8) & 0xffffffu);
    if (linkat(AT_FDCWD, proc, AT_FDCWD, af->tmp_path, AT_SYMLINK_FOLLOW) == 0) {
      if (rename(af->tmp_path, af->path) == 0) return LUCY_OK;
      const int e = errno;
      unlink(af->tmp_path);
      return lucy__fail(LUCY_ERR_IO, "cannot rename %s to %s: %s", af->tmp_path, af->path,
                        strerror(e));
    }
    if (errno != EEXIST)
      return lucy__fail(LUCY_ERR_IO, "cannot create %s: %s", af->tmp_path, strerror(errno));
  }
  return lucy__fail(LUCY_ERR_IO, "cannot find a free temporary name beside %s", af->path);
}

static LucyStatus commit_unnamed(LucyAtomicFile *af) {
  LucyStatus status = LUCY_OK;
  if (fsync(af->fd) != 0 && errno != EINVAL)
    status = lucy__fail(LUCY_ERR_IO, "cannot flush %s: %s", af->path, strerror(errno));
  if (!status) status = link_unnamed(af);
  if (close(af->fd) != 0 && !status) /* after a successful link the file is complete */
    status = lucy__fail(LUCY_ERR_IO, "cannot close %s: %s", af->path, strerror(errno));
  af->fd = -1;
  atomic_clear(af);
  return status;
}

LucyStatus lucy__atomic_commit(LucyAtomicFile *af) {
  if (af->unnamed) return commit_unnamed(af);
  LucyStatus status = LUCY_OK;
  if (af->fd >= 0) {
    if (fsync(af->fd) != 0 && errno != EINVAL)
      status = lucy__fail(LUCY_ERR_IO, "cannot flush %s: %s", af->path, strerror(errno));
    if (close(af->fd) != 0 && !status)
      status = lucy__fail(LUCY_ERR_IO, "cannot close %s: %s", af->path, strerror(errno));
    af->fd = -1;
  }
  if (!status) {
    if (af->overwrite) {
      if (rename(af->tmp_path, af->path) != 0)
        status = lucy__fail(LUCY_ERR_IO, "cannot rename %s to %s: %s", af->tmp_path, af->path,
                            strerror(errno));
    } else {
      status = place_without_replacing(af);
    }
  }
  if (af->tmp_path && status) unlink(af->tmp_path);
  atomic_clear(af);
  return status;
}

void lucy__atomic_abort(LucyAtomicFile *af) {
  if (af->fd >= 0) close(af->fd); /* an unnamed file goes with it */
  if (af->tmp_path && !af->unnamed) unlink(af->tmp_path);
  atomic_clear(af);
}
