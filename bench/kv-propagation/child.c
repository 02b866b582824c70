/*
 * The service of the kv-propagation benchmark. Its first instruction appends "start <CLOCK_REALTIME>" to
 * ./times; then it waits for a signal (tend's SIGTERM on the restart ends it). Latency = this stamp - the time
 * the benchmark issued the put.
 */
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

int main(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  int fd = open("times", O_WRONLY | O_APPEND | O_CREAT, 0644);
  if (fd >= 0) {
    dprintf(fd, "start %lld.%09ld\n", (long long)t.tv_sec, t.tv_nsec);
    close(fd);
  }
  for (;;) pause();
}
