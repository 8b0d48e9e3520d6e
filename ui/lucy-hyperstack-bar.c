/* LucyHyperstackBar: the channel and frame of a hyperstack. */
#include "lucy-hyperstack-bar.h"

struct _LucyHyperstackBar {
  GtkBox parent_instance;
  GtkWidget *channel_box, *frame_box;
  GtkSpinButton *channel_spin, *frame_spin;
  GtkSpinner *spinner;
  GtkLabel *read_label;
  LucyTiffInfo info; /* of the stack shown */
  gboolean choosable;
  guint blocked;
};

enum { CHOSEN, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE(LucyHyperstackBar, lucy_hyperstack_bar, GTK_TYPE_BOX)

static const char *plural(size_t n) { return n == 1 ? "" : "s"; }

/* In the words of the core's note ("file has 3 channels and 1 frame; read channel 0, frame 0"),
 * from the reader's numbers: what was read, or what is being read. */
static char *read_text(LucyHyperstackBar *self, gboolean reading) {
  const LucyTiffInfo *i = &self->info;
  guint c, t;
  lucy_hyperstack_bar_get_choice(self, &c, &t);
  if (!self->choosable)
    return g_strdup_printf("PSF file has %zu channel%s and %zu frame%s; read channel %zu, frame "
                           "%zu (a PSF is always read from channel 0, frame 0)",
                           i->channels, plural(i->channels), i->frames, plural(i->frames),
                           i->channel, i->frame);
  if (reading)
    return g_strdup_printf("file has %zu channel%s and %zu frame%s; reading channel %u, frame "
                           "%u…", i->channels, plural(i->channels), i->frames, plural(i->frames),
                           c, t);
  return g_strdup_printf("file has %zu channel%s and %zu frame%s; read channel %zu, frame %zu",
                         i->channels, plural(i->channels), i->frames, plural(i->frames),
                         i->channel, i->frame);
}

static void set_read_text(LucyHyperstackBar *self, gboolean reading) {
  char *text = read_text(self, reading);
  gtk_label_set_label(self->read_label, text);
  gtk_widget_set_tooltip_text(GTK_WIDGET(self->read_label), text);
  g_free(text);
}

static void set_range(GtkSpinButton *spin, size_t n, size_t value) {
  gtk_spin_button_set_range(spin, 0, n > 0 ? (double)(n - 1) : 0);
  gtk_spin_button_set_value(spin, (double)value);
}

void lucy_hyperstack_bar_show_stack(LucyHyperstackBar *self, LucyStack *stack,
                                    gboolean choosable) {
  g_return_if_fail(LUCY_IS_HYPERSTACK_BAR(self));
  const gboolean shown = stack && lucy_stack_is_hyperstack(stack);
  gtk_widget_set_visible(GTK_WIDGET(self), shown);
  if (!shown) return;
  self->info = *lucy_stack_get_tiff_info(stack);
  self->choosable = choosable;
  self->blocked++;
  set_range(self->channel_spin, self->info.channels, self->info.channel);
  set_range(self->frame_spin, self->info.frames, self->info.frame);
  self->blocked--;
  gtk_widget_set_visible(self->channel_box, choosable && self->info.channels > 1);
  gtk_widget_set_visible(self->frame_box, choosable && self->info.frames > 1);
  lucy_hyperstack_bar_set_reading(self, FALSE);
}

void lucy_hyperstack_bar_set_reading(LucyHyperstackBar *self, gboolean reading) {
  g_return_if_fail(LUCY_IS_HYPERSTACK_BAR(self));
  gtk_spinner_set_spinning(self->spinner, reading);
  gtk_widget_set_visible(GTK_WIDGET(self->spinner), reading);
  set_read_text(self, reading);
}

void lucy_hyperstack_bar_set_choice(LucyHyperstackBar *self, guint channel, guint frame) {
  g_return_if_fail(LUCY_IS_HYPERSTACK_BAR(self));
  self->blocked++;
  gtk_spin_button_set_value(self->channel_spin, channel);
  gtk_spin_button_set_value(self->frame_spin, frame);
  self->blocked--;
}

void lucy_hyperstack_bar_get_choice(LucyHyperstackBar *self, guint *channel, guint *frame) {
  g_return_if_fail(LUCY_IS_HYPERSTACK_BAR(self));
  if (channel) *channel = (guint)gtk_spin_button_get_value_as_int(self->channel_spin);
  if (frame) *frame = (guint)gtk_spin_button_get_value_as_int(self->frame_spin);
}

const char *lucy_hyperstack_bar_get_text(LucyHyperstackBar *self) {
  g_return_val_if_fail(LUCY_IS_HYPERSTACK_BAR(self), NULL);
  return gtk_label_get_label(self->read_label);
}

GtkSpinButton *lucy_hyperstack_bar_get_channel_control(LucyHyperstackBar *self) {
  return self->channel_spin;
}

GtkSpinButton *lucy_hyperstack_bar_get_frame_control(LucyHyperstackBar *self) {
  return self->frame_spin;
}

static void choice_changed_cb(LucyHyperstackBar *self) {
  if (self->blocked || !self->choosable) return;
  guint c, t;
  lucy_hyperstack_bar_get_choice(self, &c, &t);
  g_signal_emit(self, signals[CHOSEN], 0, c, t);
}

static void lucy_hyperstack_bar_class_init(LucyHyperstackBarClass *klass) {
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
  /* (guint channel, guint frame): the user chose them; the owner reads them */
  signals[CHOSEN] = g_signal_new("chosen", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                 NULL, NULL, G_TYPE_NONE, 2, G_TYPE_UINT, G_TYPE_UINT);
  gtk_widget_class_set_template_from_resource(widget_class,
                                              "/org/lucy/Lucy/lucy-hyperstack-bar.ui");
  gtk_widget_class_bind_template_child(widget_class, LucyHyperstackBar, channel_box);
  gtk_widget_class_bind_template_child(widget_class, LucyHyperstackBar, frame_box);
  gtk_widget_class_bind_template_child(widget_class, LucyHyperstackBar, channel_spin);
  gtk_widget_class_bind_template_child(widget_class, LucyHyperstackBar, frame_spin);
  gtk_widget_class_bind_template_child(widget_class, LucyHyperstackBar, spinner);
  gtk_widget_class_bind_template_child(widget_class, LucyHyperstackBar, read_label);
  gtk_widget_class_bind_template_callback(widget_class, choice_changed_cb);
}

static void lucy_hyperstack_bar_init(LucyHyperstackBar *self) {
  self->blocked++; /* template signals fire while the widgets are built */
  gtk_widget_init_template(GTK_WIDGET(self));
  self->blocked--;
}
