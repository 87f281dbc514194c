/* Placeholder: being written. */
#include "image/sp-plan.h"
