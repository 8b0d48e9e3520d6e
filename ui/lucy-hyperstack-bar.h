/* LucyHyperstackBar: under the image, for a stack read from a file with several channels or
 * time points: channel and frame spin buttons (0-based, as lucy-cli --channel and --frame) and
 * a line that says what was read ("channel 1 of 3, frame 0 of 2 read") or is being read. For a
 * PSF it only says which channel and frame were read: a PSF is always channel 0, frame 0. */
#pragma once

#include <gtk/gtk.h>
#include "lucy-stack.h"

G_BEGIN_DECLS

#define LUCY_TYPE_HYPERSTACK_BAR (lucy_hyperstack_bar_get_type())
G_DECLARE_FINAL_TYPE(LucyHyperstackBar, lucy_hyperstack_bar, LUCY, HYPERSTACK_BAR, GtkBox)

/* Shows what stack was read from (hidden unless it is a hyperstack); choosable: with the spin
 * buttons (the image), else the PSF's line. Emits nothing. */
void lucy_hyperstack_bar_show_stack(LucyHyperstackBar *self, LucyStack *stack,
                                    gboolean choosable);
/* While the chosen channel and frame are read (the spin buttons keep them). */
void lucy_hyperstack_bar_set_reading(LucyHyperstackBar *self, gboolean reading);
/* Shows a channel and frame chosen elsewhere (an accelerator) without emitting "chosen". */
void lucy_hyperstack_bar_set_choice(LucyHyperstackBar *self, guint channel, guint frame);
/* The spin buttons' channel and frame; "chosen" (guint channel, guint frame) is emitted when
 * the user changes them. */
void lucy_hyperstack_bar_get_choice(LucyHyperstackBar *self, guint *channel, guint *frame);
const char *lucy_hyperstack_bar_get_text(LucyHyperstackBar *self);
GtkSpinButton *lucy_hyperstack_bar_get_channel_control(LucyHyperstackBar *self);
GtkSpinButton *lucy_hyperstack_bar_get_frame_control(LucyHyperstackBar *self);

G_END_DECLS
