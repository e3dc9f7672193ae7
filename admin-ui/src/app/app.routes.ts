import { Routes } from '@angular/router';
import { authGuard } from './core/auth/auth.guard';
import { Shell } from './core/layout/shell';
import { unsavedChangesGuard } from './core/ui/unsaved-changes.guard';

export const routes: Routes = [
  {
    path: 'login',
    title: 'Вход — PhotoChanger',
    loadComponent: () => import('./features/login/login-page').then((m) => m.LoginPage),
  },
  {
    // Served by the server at /public/galleries/{token}, outside /admin/: no sign-in.
    path: 'public/galleries/:token',
    title: 'Галерея — PhotoChanger',
    loadComponent: () =>
      import('./features/public-gallery/public-gallery-page').then((m) => m.PublicGalleryPage),
  },
  {
    path: '',
    component: Shell,
    canActivate: [authGuard],
    children: [
      { path: '', pathMatch: 'full', redirectTo: 'slots' },
      {
        path: 'slots',
        title: 'Слоты — PhotoChanger',
        loadComponent: () => import('./features/slots/slots-page').then((m) => m.SlotsPage),
      },
      {
        path: 'slots/:id',
        title: 'Слот — PhotoChanger',
        canDeactivate: [unsavedChangesGuard],
        loadComponent: () => import('./features/slot/slot-page').then((m) => m.SlotPage),
      },
      {
        path: 'stats',
        title: 'Статистика — PhotoChanger',
        loadComponent: () => import('./features/stats/stats-page').then((m) => m.StatsPage),
      },
      {
        path: 'settings',
        title: 'Настройки — PhotoChanger',
        canDeactivate: [unsavedChangesGuard],
        loadComponent: () =>
          import('./features/settings/settings-page').then((m) => m.SettingsPage),
      },
      {
        path: 'account',
        title: 'Пароль — PhotoChanger',
        loadComponent: () => import('./features/account/account-page').then((m) => m.AccountPage),
      },
      {
        path: 'history',
        title: 'История изменений — PhotoChanger',
        loadComponent: () => import('./features/history/history-page').then((m) => m.HistoryPage),
      },
    ],
  },
  { path: '**', redirectTo: 'slots' },
];
