"""What the suite's tests use besides the harness: hypothesis ``strategies``, known deviations
(``expectations``), the limit values a version accepts (``limit_range``), ``/proc/<pid>/limits``
(``proc_limits``), n/a and capability checks (``applicability``), and JSON read against the
kit's schemas (``json_files``).
"""
