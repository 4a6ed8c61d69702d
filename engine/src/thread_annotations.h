// Clang's thread-safety attributes (-Wthread-safety); empty for other compilers.
#ifndef HOLDFAST_SRC_THREAD_ANNOTATIONS_H_
#define HOLDFAST_SRC_THREAD_ANNOTATIONS_H_

#if defined(__clang__)
#define HOLDFAST_TSA(x) __attribute__((x))
#else
#define HOLDFAST_TSA(x)
#endif

#define CAPABILITY(name) HOLDFAST_TSA(capability(name))
#define SCOPED_CAPABILITY HOLDFAST_TSA(scoped_lockable)
#define GUARDED_BY(mu) HOLDFAST_TSA(guarded_by(mu))
#define PT_GUARDED_BY(mu) HOLDFAST_TSA(pt_guarded_by(mu))
#define REQUIRES(...) HOLDFAST_TSA(requires_capability(__VA_ARGS__))
#define EXCLUDES(...) HOLDFAST_TSA(locks_excluded(__VA_ARGS__))
#define ACQUIRE(...) HOLDFAST_TSA(acquire_capability(__VA_ARGS__))
#define RELEASE(...) HOLDFAST_TSA(release_capability(__VA_ARGS__))
#define ASSERT_CAPABILITY(x) HOLDFAST_TSA(assert_capability(x))
#define NO_THREAD_SAFETY_ANALYSIS HOLDFAST_TSA(no_thread_safety_analysis)

#endif  // HOLDFAST_SRC_THREAD_ANNOTATIONS_H_
