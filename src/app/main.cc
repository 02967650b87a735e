#include "app/commands.h"

int main(int argc, char** argv) { return tangelo::app::RunCommandLine(argc, argv); }
