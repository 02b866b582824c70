/*
 * The supervised child of the restart-latency benchmark. Its first instruction appends "start <time>" to
 * ./times, it lives 1.2 s (long enough that runit's runsv does not add its 1 s restart pause), then appends
 * "exit <time>" and exits 1. Latency = next start - previous exit. Reading the service's cwd instead of argv
 * lets the same binary be runit's `run` file without a shell in between.
 */
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static void stamp(const char *what) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  int fd = open("times", O_WRONLY | O_APPEND | O_CREAT, 0644);
  if (fd < 0) return;
  dprintf(fd, "%s %lld.%09ld\n", what, (long long)t.tv_sec, t.tv_nsec);
  close(fd);
}

int main(void) {
  stamp("start");
  struct timespec life = {1, 200000000};
  nanosleep(&life, NULL);
  stamp("exit");
  return 1;
}
