/*
 * The service of the fleet rollout benchmark. It appends to ./times, with CLOCK_REALTIME:
 *   "start T"  first thing;
 *   "ready T"  after READY_MS milliseconds of warm-up (default 500), just before it prints "ready" (tend's
 *              `ready: { log: "^ready$" }` sees that line);
 *   "term T"   on SIGTERM (tend stopping it for a restart), then it exits.
 * "term" to the next "ready" is one tend's restart plus ready time: the serial work a rollout cannot avoid.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void stamp(const char *what) {
  struct timespec t;
  char line[64];
  clock_gettime(CLOCK_REALTIME, &t);
  int n = snprintf(line, sizeof line, "%s %lld.%09ld\n", what, (long long)t.tv_sec, t.tv_nsec);
  int fd = open("times", O_WRONLY | O_APPEND | O_CREAT, 0644);
  if (fd >= 0) {
    if (write(fd, line, (size_t)n) < 0) {
    }
    close(fd);
  }
}

static void on_term(int sig) {
  (void)sig;
  stamp("term");
  _exit(0);
}

int main(void) {
  stamp("start");
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_term;
  sigaction(SIGTERM, &sa, NULL);
  const char *env = getenv("READY_MS");
  long ms = env ? atol(env) : 500;
  struct timespec d = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&d, &d) != 0) {
  }
  stamp("ready");
  printf("ready\n");
  fflush(stdout);
  for (;;) pause();
}
