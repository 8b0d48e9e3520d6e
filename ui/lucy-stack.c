/* LucyStack: a volume with cached projections. */
#include "lucy-stack.h"

#include "lucy-error.h"

struct _LucyStack {
  GObject parent_instance;
  LucyVolume *volume;
  char *title;
  LucyImage *projections[3];
  guint projection_count;
  LucyImage *plane;
  gsize plane_z;
  gboolean is_signed;
  gboolean uncalibrated;
  gboolean user_voxel; /* the voxel size is the user's */
  char *path;
  LucyTiffInfo *tiff_info;
  gboolean have_stats;
  LucyStats stats;
};

G_DEFINE_FINAL_TYPE(LucyStack, lucy_stack, G_TYPE_OBJECT)

static void lucy_stack_finalize(GObject *object) {
  LucyStack *self = LUCY_STACK(object);
  for (int i = 0; i < 3; i++)
    if (self->projections[i]) lucy_image_free(self->projections[i]);
  if (self->plane) lucy_image_free(self->plane);
  lucy_volume_free(self->volume);
  g_free(self->title);
  g_free(self->path);
  g_free(self->tiff_info);
  G_OBJECT_CLASS(lucy_stack_parent_class)->finalize(object);
}

static void lucy_stack_class_init(LucyStackClass *klass) {
  G_OBJECT_CLASS(klass)->finalize = lucy_stack_finalize;
}

static void lucy_stack_init(LucyStack *self) { (void)self; }

LucyStack *lucy_stack_new_take(LucyVolume *vol, const char *title) {
  g_return_val_if_fail(vol != NULL, NULL);
  LucyStack *self = g_object_new(LUCY_TYPE_STACK, NULL);
  self->volume = vol;
  self->title = g_strdup(title ? title : "");
  return self;
}

LucyStack *lucy_stack_copy(LucyStack *self, GError **error) {
  g_return_val_if_fail(LUCY_IS_STACK(self), NULL);
  LucyVolume *vol = NULL;
  LucyStatus st = lucy_volume_copy(self->volume, &vol);
  if (st != LUCY_OK) {
    lucy_set_error_from_status(error, st, "Could not copy the stack");
    return NULL;
  }
  LucyStack *copy = lucy_stack_new_take(vol, self->title);
  copy->is_signed = self->is_signed;
  lucy_stack_copy_calibration(copy, self);
  lucy_stack_set_source(copy, self->path, self->tiff_info);
  return copy;
}

const LucyVolume *lucy_stack_get_volume(LucyStack *self) {
  g_return_val_if_fail(LUCY_IS_STACK(self), NULL);
  return self->volume;
}

const char *lucy_stack_get_title(LucyStack *self) {
  g_return_val_if_fail(LUCY_IS_STACK(self), NULL);
  return self->title;
}

void lucy_stack_set_title(LucyStack *self, const char *title) {
  g_return_if_fail(LUCY_IS_STACK(self));
  char *old = self->title;
  self->title = g_strdup(title ? title : "");
  g_free(old);
}

void lucy_stack_set_calibrated(LucyStack *self, gboolean calibrated) {
  g_return_if_fail(LUCY_IS_STACK(self));
  self->uncalibrated = !calibrated;
  self->user_voxel = FALSE;
}

gboolean lucy_stack_is_calibrated(LucyStack *self) {
  g_return_val_if_fail(LUCY_IS_STACK(self), TRUE);
  return !self->uncalibrated;
}

void lucy_stack_set_voxel_size(LucyStack *self, const double voxel_um[3]) {
  g_return_if_fail(LUCY_IS_STACK(self));
  for (int a = 0; a < 3; a++) self->volume->voxel_um[a] = voxel_um[a];
  self->uncalibrated = FALSE;
  self->user_voxel = TRUE;
}

gboolean lucy_stack_is_voxel_size_set_by_user(LucyStack *self) {
  g_return_val_if_fail(LUCY_IS_STACK(self), FALSE);
  return self->user_voxel;
}

void lucy_stack_copy_calibration(LucyStack *dst, LucyStack *src) {
  g_return_if_fail(LUCY_IS_STACK(dst) && LUCY_IS_STACK(src));
  dst->uncalibrated = src->uncalibrated;
  dst->user_voxel = src->user_voxel;
}

void lucy_stack_set_source(LucyStack *self, const char *path, const LucyTiffInfo *info) {
  g_return_if_fail(LUCY_IS_STACK(self));
  g_free(self->path);
  g_free(self->tiff_info);
  self->path = g_strdup(path);
  self->tiff_info = info ? g_memdup2(info, sizeof *info) : NULL;
}

const char *lucy_stack_get_path(LucyStack *self) {
  g_return_val_if_fail(LUCY_IS_STACK(self), NULL);
  return self->path;
}

const LucyTiffInfo *lucy_stack_get_tiff_info(LucyStack *self) {
  g_return_val_if_fail(LUCY_IS_STACK(self), NULL);
  return self->tiff_info;
}

gboolean lucy_stack_is_hyperstack(LucyStack *self) {
  g_return_val_if_fail(LUCY_IS_STACK(self), FALSE);
  return self->tiff_info && (self->tiff_info->channels > 1 || self->tiff_info->frames > 1);
}

void lucy_stack_set_signed(LucyStack *self, gboolean is_signed) {
  g_return_if_fail(LUCY_IS_STACK(self));
  self->is_signed = !!is_signed;
}

gboolean lucy_stack_get_signed(LucyStack *self) { return self->is_signed; }

gboolean lucy_stack_ensure_projections(LucyStack *self, GError **error) {
  g_return_val_if_fail(LUCY_IS_STACK(self), FALSE);
  if (self->projections[0] && self->projections[1] && self->projections[2]) return TRUE;
  /* signed stacks (differences) show the value of largest magnitude, keeping its sign */
  LucyImage *p[3];
  LucyStatus st = self->is_signed ? lucy_project_extreme_all(self->volume, p)
                                  : lucy_project_max_all(self->volume, p);
  if (st != LUCY_OK) {
    lucy_set_error_from_status(error, st, "Could not project the stack");
    return FALSE;
  }
  for (int i = 0; i < 3; i++) {
    if (self->projections[i]) lucy_image_free(self->projections[i]);
    self->projections[i] = p[i];
  }
  self->projection_count++;
  return TRUE;
}

const LucyImage *lucy_stack_get_projection(LucyStack *self, LucyProjection which) {
  g_return_val_if_fail(LUCY_IS_STACK(self), NULL);
  g_return_val_if_fail((unsigned)which < 3, NULL);
  if (!self->projections[which]) {
    g_autoptr(GError) error = NULL;
    if (!lucy_stack_ensure_projections(self, &error)) {
      g_warning("%s", error->message);
      return NULL;
    }
  }
  return self->projections[which];
}

const LucyImage *lucy_stack_get_plane(LucyStack *self, gsize z) {
  g_return_val_if_fail(LUCY_IS_STACK(self), NULL);
  if (z >= self->volume->shape[LUCY_Z]) z = self->volume->shape[LUCY_Z] - 1;
  if (self->plane && self->plane_z == z) return self->plane;
  LucyImage *img = NULL;
  if (lucy_volume_plane(self->volume, z, &img) != LUCY_OK) {
    g_warning("Could not take plane %zu: %s", (size_t)z, lucy_error_message());
    return NULL;
  }
  if (self->plane) lucy_image_free(self->plane);
  self->plane = img;
  self->plane_z = z;
  return img;
}

void lucy_stack_get_range(LucyStack *self, double *min, double *max) {
  g_return_if_fail(LUCY_IS_STACK(self));
  if (!self->have_stats) {
    lucy_volume_stats(self->volume, &self->stats);
    self->have_stats = TRUE;
  }
  if (min) *min = self->stats.min;
  if (max) *max = self->stats.max;
}

float lucy_stack_get_voxel(LucyStack *self, gsize z, gsize y, gsize x) {
  g_return_val_if_fail(LUCY_IS_STACK(self), 0.f);
  const size_t *s = self->volume->shape;
  if (z >= s[0] || y >= s[1] || x >= s[2]) return 0.f;
  return self->volume->data[(z * s[1] + y) * s[2] + x];
}

guint lucy_stack_get_projection_count(LucyStack *self) {
  g_return_val_if_fail(LUCY_IS_STACK(self), 0);
  return self->projection_count;
}

char *lucy_stack_describe(LucyStack *self) {
  g_return_val_if_fail(LUCY_IS_STACK(self), NULL);
  const LucyVolume *v = self->volume;
  return g_strdup_printf("%zu×%zu×%zu (z,y,x) · %g×%g×%g µm%s", v->shape[0], v->shape[1],
                         v->shape[2], v->voxel_um[0], v->voxel_um[1], v->voxel_um[2],
                         self->user_voxel     ? " (set by you)"
                         : self->uncalibrated ? " (uncalibrated)"
                                              : "");
}
