/* sluiced.c - the Sluice server: main() only. */
#include <stdio.h>

int main(void)
{
    fprintf(stderr, "sluiced: not yet assembled\n");
    return 1;
}
