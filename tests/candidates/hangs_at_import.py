"""Never finishes importing. The run must stop with one line saying so, within the import limit."""

import time

while True:
    time.sleep(1)
