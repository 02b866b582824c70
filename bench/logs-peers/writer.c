/*
 * The service of the log benchmark. Stamps "ready" into ./times, waits 1.5 s (the benchmark reads the
 * supervisor's CPU time meanwhile, once its own start-up is over), stamps "start <time>", writes N numbered lines of exactly 100
 * bytes (99 + "\n") to stdout as fast as the pipe takes them (64 KiB buffered writes), stamps "done <time>",
 * then waits for a signal forever so that no supervisor restarts it and writes the lines a second time.
 *
 * Line k (0-based): "L%09d " then 'x' up to 99 bytes. The checker finds "L" + 9 digits 100 bytes before each
 * line end, whatever prefix the supervisor adds (tend and svlogd add a time stamp).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 2000000;
  static char buf[1 << 16];
  setvbuf(stdout, buf, _IOFBF, sizeof buf);
  char line[101];
  memset(line, 'x', 99);
  line[99] = '\n';
  line[100] = 0;
  stamp("ready");
  struct timespec pause_ = {1, 500000000};
  nanosleep(&pause_, NULL);
  stamp("start");
  for (long k = 0; k < n; k++) {
    char head[32];
    snprintf(head, sizeof head, "L%09ld ", k);
    memcpy(line, head, 11);
    if (fwrite(line, 1, 100, stdout) != 100) return 1;
  }
  fflush(stdout);
  stamp("done");
  for (;;) pause();
}
