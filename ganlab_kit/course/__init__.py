"""Graded course labs with nbgrader: the kit's notebooks as assignments.

:mod:`.assignments` turns a notebook's exercises into nbgrader solution and graded cells,
:mod:`.grading` is what a graded cell runs (marks and the reasons for lost ones),
:mod:`.nbgrader_course` builds the course folder, autogrades and reports, and
:mod:`.command` is ``ganlab-kit course``. nbgrader itself is the ``[course]`` extra.
"""

# The notebooks with exercises, as assignments (nbgrader ids are the notebooks' names).
# Notebooks 00, 02, 03, 05, 08 and 09 have no exercises to grade.
ASSIGNMENTS = ("01_gan_loss_math", "04_dcgan", "06_pix2pix", "07_cyclegan")
