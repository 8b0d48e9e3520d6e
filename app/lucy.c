/* lucy: the desktop application. All of it lives in ui/; this only starts it. */
#include "lucy-application.h"

int main(int argc, char **argv) {
  LucyApplication *app = lucy_application_new();
  int status = g_application_run(G_APPLICATION(app), argc, argv);
  if (status == 0) status = lucy_application_get_exit_status(app);
  g_object_unref(app);
  return status;
}
