/* fuzz_recovery.c - libFuzzer target: log recovery and first-read checks.
 * The input becomes the only segment of a partition left by an unclean stop;
 * opening the log must keep exactly a valid prefix (every batch it then
 * serves passes its CRC) and never crash, whatever the bytes. An input that
 * starts with 'C' is a segment left by a clean shutdown instead (the rest of
 * the input is the segment): it is trusted without a scan, and every batch
 * it serves must still pass its CRC (storage/verify.c). */
#include "base/diag.h"
#include "base/obuf.h"
#include "record/batch.h"
#include "storage/log.h"

#include <dirent.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

/* Empties the partition directory (it holds only files). */
static void wipe(void)
{
    char path[300];
    snprintf(path, sizeof(path), "%s/t-0", dir);
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
            continue;
        char f[600];
        snprintf(f, sizeof(f), "%s/%s", path, e->d_name);
        unlink(f);
    }
    closedir(d);
}

/* The code under test logs what it rejects; millions of inputs would fill the
 * disk with it, and libFuzzer reports on stderr too. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    sl_diag_set_level(SL_DIAG_OFF);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0]) {
        snprintf(dir, sizeof(dir), "/tmp/sl-fuzz-recovery-XXXXXX");
        if (!mkdtemp(dir))
            abort();
    }
    wipe();
    char path[256];
    snprintf(path, sizeof(path), "%s/t-0", dir);
    mkdir(path, 0755);
    bool clean = size > 0 && data[0] == 'C';
    if (clean) {
        data++;
        size--;
        snprintf(path, sizeof(path), "%s/t-0/%s", dir, SL_LOG_CLEAN_SHUTDOWN_FILE);
        int mfd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (mfd < 0)
            abort();
        close(mfd);
    }
    snprintf(path, sizeof(path), "%s/t-0/00000000000000000000.log", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, data, size) != (ssize_t)size)
        abort();
    close(fd);
    snprintf(path, sizeof(path), "%s/t-0", dir);
    struct sl_log_conf conf;
    sl_log_conf_default(&conf);
    conf.segment_index_bytes = 4096;
    struct sl_log *log;
    if (sl_log_open(path, &conf, &log) != 0)
        return 0;
    int64_t end = sl_log_end_offset(log), off = sl_log_start_offset(log);
    while (off < end) {
        struct sl_obuf ob;
        sl_obuf_init(&ob);
        if (sl_log_read(log, off, end, 1 << 16, &ob) != 0 || ob.total_len == 0) {
            sl_obuf_fini(&ob);
            break;
        }
        uint8_t *buf = malloc(ob.total_len);
        if (sl_obuf_flatten(&ob, buf) != 0)
            abort();
        size_t pos = 0;
        while (pos < ob.total_len) {
            struct sl_batch_hdr h;
            if (sl_batch_hdr_decode(buf + pos, ob.total_len - pos, &h) != 0)
                abort(); /* recovery kept a partial header, or a read served one */
            size_t bsize = sl_batch_size(&h);
            if (bsize > ob.total_len - pos || sl_batch_compute_crc(buf + pos, bsize) != h.crc)
                abort(); /* a batch that fails its CRC was served */
            off = sl_batch_last_offset(&h) + 1;
            pos += bsize;
        }
        free(buf);
        sl_obuf_fini(&ob);
    }
    sl_log_close(log);
    return 0;
}
