/*
 * inject: an LD_PRELOAD library that makes the C library's limit and usage calls fail on demand,
 * so the suite can check what a resource module does when the system call fails "unexpectedly".
 *
 *   RCKIT_FAIL_RESOURCE=N  getrlimit/setrlimit/prlimit (and their 64-bit names) on resource N
 *                          fail with errno RCKIT_FAIL_ERRNO (default EIO).
 *   RCKIT_FAIL_WHO=N       getrusage (and __getrusage64) with who N fail the same way.
 *
 * Every other call goes to the next definition (the real C library). Declarations are written out
 * here rather than taken from <sys/resource.h>, whose prototypes vary with the ABI switches.
 * Build: cc -shared -fPIC -o inject.so inject.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/types.h>

static int matches(const char *variable, int value) {
    const char *text = getenv(variable);
    return text != NULL && *text != '\0' && atoi(text) == value;
}

static int fail(void) {
    const char *text = getenv("RCKIT_FAIL_ERRNO");
    errno = (text != NULL && *text != '\0') ? atoi(text) : EIO;
    return -1;
}

static void *next(const char *name) {
    return dlsym(RTLD_NEXT, name);
}

#define MISSING() (errno = ENOSYS, -1)

#define GET_OR_SET(name) \
    int name(int resource, void *limits) { \
        int (*real)(int, void *) = (int (*)(int, void *))next(#name); \
        if (matches("RCKIT_FAIL_RESOURCE", resource)) return fail(); \
        return real ? real(resource, limits) : MISSING(); \
    }

GET_OR_SET(getrlimit)
GET_OR_SET(getrlimit64)
GET_OR_SET(setrlimit)
GET_OR_SET(setrlimit64)

#define PRLIMIT(name) \
    int name(pid_t pid, int resource, const void *new_limits, void *old_limits) { \
        int (*real)(pid_t, int, const void *, void *) = (int (*)(pid_t, int, const void *, void *))next(#name); \
        if (matches("RCKIT_FAIL_RESOURCE", resource)) return fail(); \
        return real ? real(pid, resource, new_limits, old_limits) : MISSING(); \
    }

PRLIMIT(prlimit)
PRLIMIT(prlimit64)

#define GETRUSAGE(name) \
    int name(int who, void *usage) { \
        int (*real)(int, void *) = (int (*)(int, void *))next(#name); \
        if (matches("RCKIT_FAIL_WHO", who)) return fail(); \
        return real ? real(who, usage) : MISSING(); \
    }

GETRUSAGE(getrusage)
GETRUSAGE(__getrusage64)
