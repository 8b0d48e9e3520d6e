/* Point spread functions: optical models (Gaussian from NA and wavelength, Born & Wolf scalar
 * widefield, Gibson & Lanni), measurement and QA of a PSF (background, centre, FWHM from
 * Gaussian fits, asymmetry), and the fixes a PSF usually needs (centre, background, odd size,
 * normalisation), and the OTF magnitude for display. Lengths are in micrometres; PSF volumes
 * carry their voxel size. The peak of a generated PSF is at the origin voxel M//2 on each axis
 * (DESIGN.md). */
#ifndef LUCY_PSF_H
#define LUCY_PSF_H

#include "volume.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- optical models (psf-model.c) ------------------------------------------------------ */

typedef enum LucyPsfModel {
  LUCY_PSF_BORN_WOLF = 0, /* scalar widefield, paraxial defocus phase k NA^2 rho^2 z / (2 n_i) */
  LUCY_PSF_GIBSON_LANNI   /* exact optical path difference through sample, coverslip, immersion */
} LucyPsfModel;

typedef struct LucyPsfOptics {
  double na;              /* numerical aperture, 0 < na < every refractive index below */
  double wavelength_um;   /* emission wavelength in vacuum */
  double ni;              /* immersion refractive index (actual) */
  double dxy_um, dz_um;   /* lateral and axial voxel size */
  /* Gibson & Lanni only (the design values are what the objective is corrected for): */
  double ni0;             /* immersion index, design (default: ni) */
  double ns;              /* sample refractive index (default 1.33); NA > ns is allowed: the
                             rays past the critical angle are evanescent in the sample */
  double ng, ng0;         /* coverslip index, actual and design (default 1.5255) */
  double tg_um, tg0_um;   /* coverslip thickness, actual and design (default 170) */
  double ti0_um;          /* working distance, design (default 150) */
  double depth_um;        /* depth of the source below the coverslip (default 0) */
  /* numerics */
  int oversample;         /* sub-samples per voxel and axis, averaged (default 3; 1 = centres) */
  int quad_points;        /* Gauss-Legendre points over rho in [0, 1]; 0 = automatic: 16-point
                             panels, at least one panel per pi radians of J0 argument or pupil
                             phase, which keeps the integral's error below 1e-6 of the peak */
  int normalize;          /* sum 1 (default 1); else the peak of the in-focus Airy disk is 1 */
  LucyProgressFn progress; /* optional: the fraction of planes done, once per plane; non-zero
                              cancels (LUCY_ERR_CANCELLED, no PSF) */
  void *progress_user;
} LucyPsfOptics;

void lucy_psf_optics_default(LucyPsfOptics *optics);

/* A PSF of the given model, shape (z, y, x) and voxel size, peak at voxel M//2 on each axis.
 * Errors: NA >= a refractive index it must stay below, non-positive sizes or wavelength
 * (LUCY_ERR_INVALID_ARGUMENT, with the numbers). */
LucyStatus lucy_psf_model(LucyPsfModel model, const size_t shape[3], const LucyPsfOptics *optics,
                          LucyVolume **out);

/* The pupil integral itself, for tests and plots: the intensity |int_0^1 J0(k NA r rho)
 * exp(i k OPD(rho, z)) rho drho|^2 at radius r_um and defocus z_um, with n_points
 * Gauss-Legendre points (0 = automatic). The in-focus on-axis value of Born & Wolf is 1/4. */
double lucy_psf_model_intensity(LucyPsfModel model, const LucyPsfOptics *optics, double r_um,
                                double z_um, int n_points);

/* Theoretical FWHM of the scalar paraxial widefield model: lateral 0.5145 lambda/NA (the Airy
 * disk |2 J1(v)/v|^2 is half at v = 1.6163) and axial 1.7718 n lambda/NA^2 (on axis the
 * intensity is sinc^2(k NA^2 z / (4 n)), half at 1.3916). The axial constant holds for low and
 * moderate NA; at high NA the paraxial phase underestimates the true defocus. */
void lucy_psf_theoretical_fwhm(double na, double wavelength_um, double n, double *lateral_um,
                               double *axial_um);

/* A Gaussian whose FWHM matches the values above (sigma = FWHM / 2.3548), sampled at voxel
 * centres, sum 1: lucy_psf_gaussian with sigma from the optics. */
LucyStatus lucy_psf_gaussian_optics(const size_t shape[3], const LucyPsfOptics *optics,
                                    LucyVolume **out);

/* ---- measurement (psf-measure.c) -------------------------------------------------------- */

typedef struct LucyPsfFit1d {
  double amplitude, centre, sigma, offset; /* A exp(-(i - centre)^2 / (2 sigma^2)) + offset, in
                                              voxels along the profile through the peak */
  double fwhm_px, fwhm_um;                 /* 2 sqrt(2 ln 2) sigma */
  double r2;                               /* coefficient of determination of the fit */
  int ok;                                  /* 0 when the fit did not converge or axis size < 4 */
} LucyPsfFit1d;

typedef struct LucyPsfMeasure {
  size_t shape[3];
  double voxel_um[3];
  double background;     /* median of the border voxels */
  double noise;          /* 1.4826 * median absolute deviation of the border voxels */
  double peak_value;
  double sbr;            /* (peak - background) / background; INFINITY when background <= 0 */
  double snr;            /* (peak - background) / noise; INFINITY when noise is 0 */
  double sum;            /* of all voxels, as stored */
  double sum_above_background; /* sum of (v - background) */
  size_t peak[3];        /* z, y, x of the maximum */
  double centroid[3];    /* background-subtracted centroid (lucy_psf_check) */
  size_t origin[3];      /* M//2 */
  double offset_px[3];   /* centroid - origin */
  double fit_centre[3];  /* centres of the 1-D fits, z, y, x (sub-voxel peak) */
  LucyPsfFit1d fit[3];   /* z, y, x */
  /* rotated 2-D Gaussian in the focal plane (z = peak) */
  double lateral_sigma_major_px, lateral_sigma_minor_px;
  double lateral_ratio;  /* major / minor >= 1 */
  double lateral_angle_deg; /* of the major axis, from +x towards +y, in [0, 180) */
  double lateral_r2;
  int lateral_ok;
  double axial_symmetry; /* Pearson correlation of plane peak+d with peak-d over all d; NaN when
                            the focal plane has no neighbour on one side */
  size_t saturated_count; /* voxels equal to the maximum */
  int saturated;          /* more than one voxel equals the maximum (a flat top) */
  size_t clipped_count;   /* voxels equal to the minimum */
  int clipped;            /* the minimum is <= 0 and more than 1% of the voxels equal it
                             (background subtracted and clamped, or an offset too low) */
  /* theoretical values when NA and wavelength were given, else 0 */
  double theory_fwhm_um[3]; /* z, y, x */
  double fwhm_ratio[3];     /* measured / theoretical */
} LucyPsfMeasure;

typedef struct LucyPsfMeasureOptions {
  double na, wavelength_um, ni; /* for the theoretical FWHM; na <= 0: none (ni default 1.515) */
} LucyPsfMeasureOptions;

void lucy_psf_measure_options_default(LucyPsfMeasureOptions *opts);

/* Measures psf. Errors: a constant (e.g. all-zero) or non-finite PSF (LUCY_ERR_NUMERIC), a peak
 * on the border of the box along an axis longer than 2 (LUCY_ERR_INVALID_ARGUMENT). */
LucyStatus lucy_psf_measure(const LucyVolume *psf, const LucyPsfMeasureOptions *opts,
                            LucyPsfMeasure *m);

/* Fits A exp(-(i-c)^2/(2 s^2)) + b to y[0..n) by Levenberg-Marquardt from the given start
 * (p = {A, c, s, b}); returns 1 on convergence and writes p and *r2. */
int lucy_psf_fit_gaussian_1d(const double *y, size_t n, double p[4], double *r2);

/* ---- fixing (psf-fix.c) ----------------------------------------------------------------- */

typedef enum LucyPsfCentre {
  LUCY_PSF_CENTRE_NONE = 0,
  LUCY_PSF_CENTRE_CENTROID, /* move the background-subtracted centroid to M//2 */
  LUCY_PSF_CENTRE_PEAK      /* move the fitted (sub-voxel) peak to M//2 */
} LucyPsfCentre;

typedef struct LucyPsfFixOptions {
  int subtract_background; /* subtract the border median, clamp below at 0 (default 0) */
  LucyPsfCentre centre;    /* sub-voxel shift by an FFT phase ramp (periodic) (default none) */
  int odd;                 /* pad (with 0 or the background) to odd sizes centred on the peak */
  int normalize;           /* divide by the sum */
} LucyPsfFixOptions;

typedef struct LucyPsfFixReport {
  double background_subtracted; size_t clamped; /* voxels set to 0 after subtracting */
  double shift_px[3];          /* applied shift, z, y, x */
  double centre_before[3], centre_after[3];
  size_t shape_before[3], shape_after[3];
  double sum_before;           /* before normalising */
  char message[512];           /* what changed, one sentence per action */
} LucyPsfFixReport;

void lucy_psf_fix_options_default(LucyPsfFixOptions *opts);
/* Applies the chosen fixes in the order background, centre, odd, normalise to a copy of psf. */
LucyStatus lucy_psf_fix(const LucyVolume *psf, const LucyPsfFixOptions *opts, LucyVolume **out,
                        LucyPsfFixReport *report);

/* Shifts vol by shift[] voxels (z, y, x; any real values) with an FFT phase ramp on the CPU
 * device: the result is periodic (what leaves one side enters the other). */
LucyStatus lucy_volume_shift_fft(const LucyVolume *vol, const double shift[3], LucyVolume **out);

/* ---- OTF (psf-otf.c) -------------------------------------------------------------------- */

/* The magnitude of the optical transfer function, |DFT(psf)| / |sum(psf)|, as a volume of the
 * PSF's shape and voxel size, centred like numpy.fft.fftshift: the voxel at index j on an axis
 * of M voxels holds the signed frequency k = j - M//2 (k / (M d) cycles/um for voxels of d um),
 * so DC is at M//2 and is 1 (to float precision). |OTF(k)| = |OTF(-k)| (a real PSF). Computed by
 * a real-to-complex FFT on a CPU device with one thread per core; the magnitude does not depend
 * on where the PSF's peak sits. Errors: no PSF or output (LUCY_ERR_INVALID_ARGUMENT), NaN or Inf
 * voxels, or a sum that is 0 or not finite (LUCY_ERR_NUMERIC, with the sum and the shape). */
LucyStatus lucy_psf_otf(const LucyVolume *psf, LucyVolume **out);

#ifdef __cplusplus
}
#endif
#endif
