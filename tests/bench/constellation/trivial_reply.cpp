// The baseline of the constellation benchmark: the least a spawned program can
// do before it answers. Writes one byte to stdout and exits.
#include <unistd.h>

int main()
{
    const char byte = 'x';
    return ::write(STDOUT_FILENO, &byte, 1) == 1 ? 0 : 1;
}
