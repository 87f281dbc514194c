/* Placeholder: being written. */
#include "util/sp-lock.h"
