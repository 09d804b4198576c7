/* Scenario bodies shared by the ARM and RISC-V handler files. */
#ifndef SCENARIOS_H
#define SCENARIOS_H

/* Keep every helper a real, separately named function at any -O level: GCC's noipa
 * also stops clones (.constprop/.isra) that would rename it; clang has no clones. */
#if defined(__clang__)
#define KEEP __attribute__((noinline, used))
#else
#define KEEP __attribute__((noipa, used))
#endif

void scenario_deep(void);
void scenario_tail(int value);
void scenario_indirect(void);
void scenario_dispatch(int which);
int scenario_recursion(int depth);
int scenario_switch(int value);

#endif
