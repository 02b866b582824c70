/*
 * The service of the start-up benchmark: its first instruction appends "<name> <time>\n" to the file named by
 * argv[1] (one write on an O_APPEND descriptor, so lines from a thousand siblings never tear), then it waits
 * for a signal forever, like `sleep infinity`. "All services run" = the file holds one line per service.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  if (argc > 2) {
    char line[256];
    int n = snprintf(line, sizeof line, "%s %lld.%09ld\n", argv[2], (long long)t.tv_sec, t.tv_nsec);
    int fd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (fd >= 0) {
      if (write(fd, line, (size_t)n) < 0) return 2;
      close(fd);
    }
  }
  for (;;) pause();
}
