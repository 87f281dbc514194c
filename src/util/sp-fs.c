/* Placeholder: being written. */
#include "util/sp-fs.h"
