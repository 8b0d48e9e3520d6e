/* libFuzzer target: any byte string given to the TIFF reader must give LUCY_OK with a valid
 * volume or an error with a message; never a crash, a leak, a hang or a huge allocation. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lucy/lucy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  LucyVolume *vol = NULL;
  LucyTiffInfo info;
  LucyStatus st = lucy_tiff_read_memory(data, size, NULL, &vol, &info);
  if (st == LUCY_OK) {
    /* Touch every voxel so that a short fill shows up under MSan/ASan. */
    volatile float sink = 0;
    size_t n = lucy_shape_count(vol->shape);
    for (size_t i = 0; i < n; i++) sink += vol->data[i];
    (void)sink;
    if (!vol->shape[0] || !vol->shape[1] || !vol->shape[2] || info.pages == 0)
      __builtin_trap();
    lucy_volume_free(vol);
    /* Hyperstacks: the last channel and frame take the other plane-to-IFD paths. */
    if (info.channels > 1 || info.frames > 1) {
      LucyTiffReadOptions opts = {.channel = info.channels - 1, .frame = info.frames - 1};
      vol = NULL;
      if (lucy_tiff_read_memory(data, size, &opts, &vol, NULL) == LUCY_OK) lucy_volume_free(vol);
      else if (vol != NULL) __builtin_trap();
    }
  } else if (vol != NULL || lucy_error_message()[0] == '\0') {
    __builtin_trap(); /* a failure must leave no volume and must say why */
  }
  return 0;
}
