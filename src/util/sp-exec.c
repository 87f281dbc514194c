/* Placeholder: being written. */
#include "util/sp-exec.h"
