/*
 * rprobe: print, as one JSON object, what this platform's C headers say about resource limits.
 *
 * Every RLIMIT_* / RUSAGE_* / RLIM_* name the kit knows is tested with #ifdef, so the output lists
 * exactly the names the headers define. It also gives the width and signedness of rlim_t, the
 * layout of struct rlimit and struct rusage (sizes and offsets), the byte order, and the ABI switches
 * the build used (_FILE_OFFSET_BITS, _TIME_BITS). rckit.platforms.cprobe compiles it with the
 * available C compiler and compares the result with platforms/data.
 *
 * Build: cc -D_GNU_SOURCE -o rprobe rprobe.c   (add -D_FILE_OFFSET_BITS=64 [-D_TIME_BITS=64]).
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/time.h>
#include <sys/resource.h>

static int first = 1;

static void key(const char *name) {
    printf("%s\"%s\": ", first ? "" : ", ", name);
    first = 0;
}

static void num(const char *name, long long value) {
    key(name);
    printf("%lld", value);
}

static void unum(const char *name, unsigned long long value) {
    key(name);
    printf("%llu", value);
}

/* "name": { ... the keys that follow go inside, the first without a comma. */
static void open_object(const char *name) {
    key(name);
    printf("{");
    first = 1;
}

/* Close `depth` nested objects; the next key follows them with a comma. */
static void close_objects(int depth) {
    while (depth-- > 0)
        printf("}");
    first = 0;
}

/* "name": {"size": N, "fields": { ... the FIELD lines that follow, then close_objects(2). */
static void open_struct(const char *name, size_t size) {
    open_object(name);
    num("size", (long long)size);
    open_object("fields");
}

/* A field of a struct: {"offset": N, "size": N}. */
#define FIELD(type, member) \
    do { \
        key(#member); \
        printf("{\"offset\": %u, \"size\": %u}", (unsigned)offsetof(type, member), \
               (unsigned)sizeof(((type *)0)->member)); \
    } while (0)

/* An integer constant; the output is a JSON object of those the headers define. */
#define CONST(name) num(#name, (long long)(name))

static void constants(void) {
    open_object("constants");
#ifdef RLIMIT_CPU
    CONST(RLIMIT_CPU);
#endif
#ifdef RLIMIT_FSIZE
    CONST(RLIMIT_FSIZE);
#endif
#ifdef RLIMIT_DATA
    CONST(RLIMIT_DATA);
#endif
#ifdef RLIMIT_STACK
    CONST(RLIMIT_STACK);
#endif
#ifdef RLIMIT_CORE
    CONST(RLIMIT_CORE);
#endif
#ifdef RLIMIT_RSS
    CONST(RLIMIT_RSS);
#endif
#ifdef RLIMIT_NPROC
    CONST(RLIMIT_NPROC);
#endif
#ifdef RLIMIT_NOFILE
    CONST(RLIMIT_NOFILE);
#endif
#ifdef RLIMIT_OFILE
    CONST(RLIMIT_OFILE);
#endif
#ifdef RLIMIT_MEMLOCK
    CONST(RLIMIT_MEMLOCK);
#endif
#ifdef RLIMIT_AS
    CONST(RLIMIT_AS);
#endif
#ifdef RLIMIT_VMEM
    CONST(RLIMIT_VMEM);
#endif
#ifdef RLIMIT_LOCKS
    CONST(RLIMIT_LOCKS);
#endif
#ifdef RLIMIT_SIGPENDING
    CONST(RLIMIT_SIGPENDING);
#endif
#ifdef RLIMIT_MSGQUEUE
    CONST(RLIMIT_MSGQUEUE);
#endif
#ifdef RLIMIT_NICE
    CONST(RLIMIT_NICE);
#endif
#ifdef RLIMIT_RTPRIO
    CONST(RLIMIT_RTPRIO);
#endif
#ifdef RLIMIT_RTTIME
    CONST(RLIMIT_RTTIME);
#endif
#ifdef RLIMIT_SBSIZE
    CONST(RLIMIT_SBSIZE);
#endif
#ifdef RLIMIT_NPTS
    CONST(RLIMIT_NPTS);
#endif
#ifdef RLIMIT_SWAP
    CONST(RLIMIT_SWAP);
#endif
#ifdef RLIMIT_KQUEUES
    CONST(RLIMIT_KQUEUES);
#endif
#ifdef RLIMIT_UMTXP
    CONST(RLIMIT_UMTXP);
#endif
#ifdef RLIMIT_PIPEBUF
    CONST(RLIMIT_PIPEBUF);
#endif
#ifdef RLIMIT_VMM
    CONST(RLIMIT_VMM);
#endif
#ifdef RLIMIT_NTHR
    CONST(RLIMIT_NTHR);
#endif
#ifdef RLIMIT_THREADS
    CONST(RLIMIT_THREADS);
#endif
#ifdef RLIMIT_NLIMITS
    CONST(RLIMIT_NLIMITS);
#endif
#ifdef RLIM_NLIMITS
    CONST(RLIM_NLIMITS);
#endif
#ifdef RUSAGE_SELF
    CONST(RUSAGE_SELF);
#endif
#ifdef RUSAGE_CHILDREN
    CONST(RUSAGE_CHILDREN);
#endif
#ifdef RUSAGE_BOTH
    CONST(RUSAGE_BOTH);
#endif
#ifdef RUSAGE_THREAD
    CONST(RUSAGE_THREAD);
#endif
#ifdef RUSAGE_LWP
    CONST(RUSAGE_LWP);
#endif
    close_objects(1);
}

static void limit_values(void) {
    open_object("rlim");
    num("size", (long long)sizeof(rlim_t));
    num("signed", (rlim_t)-1 < (rlim_t)0);
    unum("RLIM_INFINITY", (unsigned long long)RLIM_INFINITY);
#ifdef RLIM_SAVED_MAX
    unum("RLIM_SAVED_MAX", (unsigned long long)RLIM_SAVED_MAX);
#endif
#ifdef RLIM_SAVED_CUR
    unum("RLIM_SAVED_CUR", (unsigned long long)RLIM_SAVED_CUR);
#endif
    close_objects(1);
}

static void layouts(void) {
    open_struct("rlimit", sizeof(struct rlimit));
    FIELD(struct rlimit, rlim_cur);
    FIELD(struct rlimit, rlim_max);
    close_objects(2);

    open_struct("timeval", sizeof(struct timeval));
    FIELD(struct timeval, tv_sec);
    FIELD(struct timeval, tv_usec);
    close_objects(2);

    open_struct("rusage", sizeof(struct rusage));
    FIELD(struct rusage, ru_utime);
    FIELD(struct rusage, ru_stime);
    FIELD(struct rusage, ru_maxrss);
    FIELD(struct rusage, ru_ixrss);
    FIELD(struct rusage, ru_idrss);
    FIELD(struct rusage, ru_isrss);
    FIELD(struct rusage, ru_minflt);
    FIELD(struct rusage, ru_majflt);
    FIELD(struct rusage, ru_nswap);
    FIELD(struct rusage, ru_inblock);
    FIELD(struct rusage, ru_oublock);
    FIELD(struct rusage, ru_msgsnd);
    FIELD(struct rusage, ru_msgrcv);
    FIELD(struct rusage, ru_nsignals);
    FIELD(struct rusage, ru_nvcsw);
    FIELD(struct rusage, ru_nivcsw);
    close_objects(2);
}

int main(void) {
    const unsigned int one = 1;
    unsigned char low;

    memcpy(&low, &one, 1);
    printf("{");
    num("pointer_bits", (long long)(8 * sizeof(void *)));
    num("long_bits", (long long)(8 * sizeof(long)));
    num("time_t_bits", (long long)(8 * sizeof(time_t)));
    key("byteorder");
    printf("\"%s\"", low ? "little" : "big");
#ifdef _FILE_OFFSET_BITS
    num("file_offset_bits", _FILE_OFFSET_BITS);
#endif
#ifdef _TIME_BITS
    num("time_bits", _TIME_BITS);
#endif
    constants();
    limit_values();
    layouts();
    printf("}\n");
    return 0;
}
