/*
 * pause: the infrastructure process of a tkube pod.
 *
 * It runs as PID 1 of the pod's sandbox container and does nothing but hold the pod's
 * namespaces open. Two duties follow from being PID 1:
 *   - the kernel sends PID 1 no signal it has no handler for, so SIGINT and SIGTERM get
 *     handlers that end the process at once (otherwise "docker stop" would wait for SIGKILL);
 *   - orphans of a shared PID namespace are re-parented to PID 1, so SIGCHLD reaps them.
 *
 * Built static (gcc -static -Os) so that the image needs nothing else.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAUSE_VERSION "3.10"

static void say(const char *s) {
  ssize_t ignored = write(STDERR_FILENO, s, strlen(s));
  (void)ignored;
}

static void on_stop(int sig) {
  say(sig == SIGINT ? "pause: got SIGINT, exiting\n" : "pause: got SIGTERM, exiting\n");
  _exit(0);
}

static void on_child(int sig) {
  int saved = errno;
  (void)sig;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  errno = saved;
}

static int handle(int sig, void (*fn)(int), int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = fn;
  sa.sa_flags = flags;
  sigemptyset(&sa.sa_mask);
  return sigaction(sig, &sa, NULL);
}

int main(int argc, char **argv) {
  if (argc > 1 && (strcmp(argv[1], "-v") == 0 || strcmp(argv[1], "--version") == 0)) {
    say("pause " PAUSE_VERSION " (tkube)\n");
    return 0;
  }
  if (getpid() != 1) say("pause: warning: not running as PID 1\n");
  if (handle(SIGINT, on_stop, 0) < 0 || handle(SIGTERM, on_stop, 0) < 0 ||
      handle(SIGCHLD, on_child, SA_NOCLDSTOP | SA_RESTART) < 0) {
    say("pause: cannot install signal handlers\n");
    return 1;
  }
  for (;;) pause();
}
